package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/migrations"

	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/stock-service/internal/api"
)

const token = "s3cret"

var migrate = migrations.For(migrations.Stock)

// server serves the API over a fresh database.
type server struct {
	*servicetest.Server
}

func newServer(t *testing.T) *server {
	t.Helper()
	return &server{servicetest.NewServer(t, migrate, func(pool *pgxpool.Pool) http.Handler {
		return api.New(pool, "EUR", token, nil).Handler()
	})}
}

// do sends body (JSON unless contentType says otherwise) with the admin
// token when auth is set.
func (s *server) do(t *testing.T, method, path, body string, auth bool, contentType string) servicetest.Response {
	t.Helper()
	authorization := ""
	if auth {
		authorization = "Bearer " + token
	}
	return s.Do(t, method, path, body, authorization, contentType)
}

const jsonType = "application/json"

func TestWritesNeedTheAdminToken(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tests := []struct{ method, path, body, auth string }{
		{"PUT", "/items/a", `{"name":"A","price_cents":1,"currency":"EUR"}`, ""},
		{"PUT", "/items/a", `{"name":"A","price_cents":1,"currency":"EUR"}`, "Bearer nope"},
		{"PUT", "/items/a", `{"name":"A","price_cents":1,"currency":"EUR"}`, token},
		{"POST", "/items/a/restock", `{"quantity":1}`, ""},
		{"POST", "/items/a/restock", `{"quantity":1}`, "Bearer nope"},
	}
	for _, tt := range tests {
		res := s.Do(t, tt.method, tt.path, tt.body, tt.auth, jsonType)
		if got, want := res.Status, http.StatusUnauthorized; got != want {
			t.Errorf("%s %s with Authorization %q: status %d, want %d", tt.method, tt.path, tt.auth, got, want)
		}
	}
	if got := s.do(t, http.MethodGet, "/items/a", "", false, "").Status; got != http.StatusNotFound {
		t.Errorf("item exists after unauthorised writes: GET status %d, want 404", got)
	}
}

func TestItemLifecycle(t *testing.T) {
	t.Parallel()
	s := newServer(t)

	r := s.do(t, http.MethodPut, "/items/book-1", `{"name":"Book","price_cents":1250,"currency":"EUR"}`, true, jsonType)
	if r.Status != http.StatusCreated {
		t.Fatalf("create: status %d, want 201: %s", r.Status, r.Raw)
	}
	r = s.do(t, http.MethodPut, "/items/book-1", `{"name":"Book 2e","price_cents":1500,"currency":"EUR"}`, true, jsonType)
	if r.Status != http.StatusOK || r.Body["name"] != "Book 2e" {
		t.Fatalf("update: status %d body %s, want 200 with the new name", r.Status, r.Raw)
	}
	r = s.do(t, http.MethodPost, "/items/book-1/restock", `{"quantity":7}`, true, jsonType)
	if r.Status != http.StatusOK || r.Body["on_hand"] != 7.0 {
		t.Fatalf("restock: status %d body %s, want 200 with on_hand 7", r.Status, r.Raw)
	}
	s.do(t, http.MethodPut, "/items/a-pen", `{"name":"Pen","price_cents":0,"currency":"EUR"}`, true, jsonType)

	r = s.do(t, http.MethodGet, "/items/book-1", "", false, "")
	want := map[string]any{"id": "book-1", "name": "Book 2e", "price_cents": 1500.0, "currency": "EUR",
		"on_hand": 7.0, "reserved": 0.0, "available": 7.0}
	if r.Status != http.StatusOK || len(r.Body) != len(want) {
		t.Fatalf("get: status %d body %s", r.Status, r.Raw)
	}
	for k, v := range want {
		if r.Body[k] != v {
			t.Errorf("get: %s = %v, want %v", k, r.Body[k], v)
		}
	}

	var ids []string
	for path := "/items?limit=1"; path != ""; {
		r = s.do(t, http.MethodGet, path, "", false, "")
		var page struct {
			Items []struct{ ID string }
			Next  string
		}
		if err := json.Unmarshal([]byte(r.Raw), &page); err != nil || r.Status != http.StatusOK || len(ids) > 2 {
			t.Fatalf("list %s: status %d body %s: %v", path, r.Status, r.Raw, err)
		}
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		path = ""
		if page.Next != "" {
			path = "/items?limit=1&after=" + page.Next
		}
	}
	if fmt.Sprint(ids) != "[a-pen book-1]" {
		t.Errorf("pages of items: %v, want a-pen then book-1", ids)
	}
	if got := s.do(t, http.MethodGet, "/items?limit=0", "", false, "").Status; got != http.StatusBadRequest {
		t.Errorf("list with limit 0: %d, want 400", got)
	}
	assertSnapshots(t, s, "book-1", []int64{0, 0, 7})
}

// assertSnapshots checks the item.updated rows written for item, in order.
func assertSnapshots(t *testing.T, s *server, item string, available []int64) {
	t.Helper()
	rows, err := s.DB.Pool.Query(context.Background(),
		`SELECT value FROM outbox WHERE topic = $1 AND key = $2 ORDER BY id`, topic.Items, item)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []int64
	for rows.Next() {
		var value []byte
		if err := rows.Scan(&value); err != nil {
			t.Fatal(err)
		}
		m, err := envelope.Decode(value)
		if err != nil || m.Type != stockmsg.TypeItemUpdated {
			t.Fatalf("items row: type %q, err %v", m.Type, err)
		}
		var u stockmsg.ItemUpdated
		if err := json.Unmarshal(m.Data, &u); err != nil || u.ID != item {
			t.Fatalf("item.updated data %s: %v", m.Data, err)
		}
		got = append(got, u.Available)
	}
	if len(got) != len(available) {
		t.Fatalf("item.updated for %s: available %v, want %v", item, got, available)
	}
	for i := range got {
		if got[i] != available[i] {
			t.Errorf("item.updated for %s: available %v, want %v", item, got, available)
			break
		}
	}
}

func TestErrorsAreProblems(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.do(t, http.MethodPut, "/items/a", `{"name":"A","price_cents":1,"currency":"EUR"}`, true, jsonType)
	tests := []struct {
		name, method, path, body, contentType string
		status                                int
	}{
		{"other currency", "PUT", "/items/b", `{"name":"B","price_cents":1,"currency":"USD"}`, jsonType, 422},
		{"empty name", "PUT", "/items/b", `{"name":" ","price_cents":1,"currency":"EUR"}`, jsonType, 422},
		{"negative price", "PUT", "/items/b", `{"name":"B","price_cents":-1,"currency":"EUR"}`, jsonType, 422},
		{"missing price", "PUT", "/items/b", `{"name":"B","currency":"EUR"}`, jsonType, 422},
		{"id too long", "PUT", "/items/" + strings.Repeat("x", 201), `{"name":"B","price_cents":1,"currency":"EUR"}`, jsonType, 422},
		{"zero restock", "POST", "/items/a/restock", `{"quantity":0}`, jsonType, 422},
		{"restock unknown item", "POST", "/items/nope/restock", `{"quantity":1}`, jsonType, 404},
		{"get unknown item", "GET", "/items/nope", "", "", 404},
		{"malformed JSON", "PUT", "/items/b", `{"name":`, jsonType, 400},
		{"wrong field type", "POST", "/items/a/restock", `{"quantity":"many"}`, jsonType, 400},
		{"unknown field", "POST", "/items/a/restock", `{"quantity":1,"extra":true}`, jsonType, 400},
		{"empty body", "POST", "/items/a/restock", ``, jsonType, 400},
		{"wrong content type", "PUT", "/items/b", `{"name":"B","price_cents":1,"currency":"EUR"}`, "text/plain", 415},
		{"body over 1 MiB", "PUT", "/items/b", `{"name":"` + strings.Repeat("x", 1<<20) + `","price_cents":1,"currency":"EUR"}`, jsonType, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			servicetest.CheckProblem(t, s.do(t, tt.method, tt.path, tt.body, true, tt.contentType), tt.status)
		})
	}
	if got := s.do(t, http.MethodGet, "/items/b", "", false, "").Status; got != http.StatusNotFound {
		t.Errorf("a refused PUT created item b: GET status %d, want 404", got)
	}
	assertSnapshots(t, s, "a", []int64{0})
}

// Puts racing to create one item: one creates it, the others change it,
// none fails, and each leaves its snapshot.
func TestConcurrentPutsOfANewItem(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	const puts = 8
	statuses := make([]int, puts)
	var wg sync.WaitGroup
	for i := range puts {
		wg.Go(func() {
			body := fmt.Sprintf(`{"name":"N%d","price_cents":1,"currency":"EUR"}`, i)
			statuses[i] = s.do(t, http.MethodPut, "/items/new", body, true, jsonType).Status
		})
	}
	wg.Wait()
	created, replaced := 0, 0
	for _, st := range statuses {
		switch st {
		case http.StatusCreated:
			created++
		case http.StatusOK:
			replaced++
		}
	}
	if created != 1 || replaced != puts-1 {
		t.Errorf("statuses %v: want one 201 and %d 200", statuses, puts-1)
	}
	if r := s.do(t, http.MethodGet, "/items/new", "", false, ""); r.Status != http.StatusOK || !strings.HasPrefix(r.Body["name"].(string), "N") {
		t.Errorf("item after the race: %d %s", r.Status, r.Raw)
	}
	assertSnapshots(t, s, "new", make([]int64, puts))
}
