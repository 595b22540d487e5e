package api_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/testdb"
	"github.com/purchase-saga/messaging/topic"
	"github.com/purchase-saga/migrations"

	"github.com/purchase-saga/stock-service/internal/api"
	"github.com/purchase-saga/stock-service/stockmsg"
)

const token = "s3cret"

func migrate(ctx context.Context, db *sql.DB) error {
	return migrations.Up(ctx, db, migrations.Stock)
}

// server serves the API over a fresh database.
type server struct {
	db  *testdb.DB
	url string
}

func newServer(t *testing.T) *server {
	t.Helper()
	db := testdb.New(t, migrate)
	srv := httptest.NewServer(api.New(db.Pool, "EUR", token, nil).Handler())
	t.Cleanup(srv.Close)
	return &server{db: db, url: srv.URL}
}

// response is what a request got back.
type response struct {
	Status      int
	ContentType string
	Body        map[string]any
	Raw         string
}

// do sends body (JSON unless contentType says otherwise) with the admin
// token when auth is set.
func (s *server) do(t *testing.T, method, path, body string, auth bool, contentType string) response {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := response{Status: res.StatusCode, ContentType: res.Header.Get("Content-Type"), Raw: string(raw)}
	_ = json.Unmarshal(raw, &r.Body)
	return r
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
		req, err := http.NewRequest(tt.method, s.url+tt.path, strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", jsonType)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got, want := res.StatusCode, http.StatusUnauthorized; got != want {
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

	r = s.do(t, http.MethodGet, "/items", "", false, "")
	var list []struct{ ID string }
	if err := json.Unmarshal([]byte(r.Raw), &list); err != nil || r.Status != http.StatusOK {
		t.Fatalf("list: status %d body %s: %v", r.Status, r.Raw, err)
	}
	if len(list) != 2 || list[0].ID != "a-pen" || list[1].ID != "book-1" {
		t.Errorf("list = %+v, want a-pen then book-1", list)
	}
	assertSnapshots(t, s, "book-1", []int64{0, 0, 7})
}

// assertSnapshots checks the item.updated rows written for item, in order.
func assertSnapshots(t *testing.T, s *server, item string, available []int64) {
	t.Helper()
	rows, err := s.db.Pool.Query(context.Background(),
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
			r := s.do(t, tt.method, tt.path, tt.body, true, tt.contentType)
			if r.Status != tt.status {
				t.Errorf("status %d, want %d: %s", r.Status, tt.status, r.Raw)
			}
			if got, want := r.ContentType, "application/problem+json"; got != want {
				t.Errorf("content type %q, want %q", got, want)
			}
			if r.Body["status"] != float64(tt.status) || r.Body["detail"] == "" {
				t.Errorf("problem body %s, want status %d and a detail", r.Raw, tt.status)
			}
		})
	}
	if got := s.do(t, http.MethodGet, "/items/b", "", false, "").Status; got != http.StatusNotFound {
		t.Errorf("a refused PUT created item b: GET status %d, want 404", got)
	}
	assertSnapshots(t, s, "a", []int64{0})
}
