package api_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/testdb"
	"github.com/purchase-saga/messaging/trace"
	"github.com/purchase-saga/migrations"
	"github.com/purchase-saga/order-service/internal/api"
	"github.com/purchase-saga/order-service/internal/postgres"
	"github.com/purchase-saga/order-service/internal/saga"
)

type fixture struct {
	t    *testing.T
	srv  *httptest.Server
	saga *saga.Saga
	pool *pgxpool.Pool
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := testdb.New(t, func(ctx context.Context, db *sql.DB) error { return migrations.Up(ctx, db, migrations.Order) })
	if err := postgres.NewStore(db.Pool).Catalog().Upsert(context.Background(), postgres.Item{ID: "book", Name: "Book", PriceCents: 500, Currency: "EUR", Available: 3}); err != nil {
		t.Fatal(err)
	}
	s := &saga.Saga{Store: postgres.NewStore(db.Pool), Currency: "EUR", Timeout: time.Minute, Log: slog.Default()}
	w := &saga.Waiter{DatabaseURL: db.URL, Log: slog.Default()}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	srv := httptest.NewServer(trace.Middleware((&api.API{Saga: s, Store: s.Store, Waiter: w, Log: slog.Default()}).Handler()))
	t.Cleanup(srv.Close)
	return &fixture{t: t, srv: srv, saga: s, pool: db.Pool}
}

func (f *fixture) do(method, path, contentType, body string, headers ...string) (int, http.Header, map[string]any) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
		f.t.Errorf("%s %s: error %d is %q, not problem+json", method, path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, resp.Header, out
}

// raw sends body and returns the answer's body as it came.
func (f *fixture) raw(method, path, contentType, body string) string {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

const book1 = `{"customer_id":"c1","lines":[{"item_id":"book","quantity":1}]}`

func TestPlaceAndGet(t *testing.T) {
	f := newFixture(t)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	code, h, o := f.do("POST", "/orders", "application/json", book1, "traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	if code != 201 || h.Get("Location") != "/orders/"+o["id"].(string) || o["status"] != "PENDING" || o["amount_cents"] != 500.0 {
		t.Fatalf("POST /orders: %d %v %v", code, h.Get("Location"), o)
	}
	// The order's three messages carry the request's trace.
	var traced int
	err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox WHERE key = $1 AND headers->>'traceparent' LIKE $2`,
		o["id"], "00-"+traceID+"-%").Scan(&traced)
	if err != nil || traced != 3 {
		t.Errorf("%d of the order's messages carry the request's trace (err %v), want 3", traced, err)
	}
	if code, _, got := f.do("GET", h.Get("Location"), "", ""); code != 200 || got["id"] != o["id"] {
		t.Errorf("GET %s: %d %v", h.Get("Location"), code, got)
	}
	for _, path := range []string{"/orders/01900000-0000-7000-8000-000000000000", "/orders/not-a-uuid"} {
		if code, _, _ := f.do("GET", path, "", ""); code != 404 {
			t.Errorf("GET %s: %d, want 404", path, code)
		}
	}
}

func TestPlaceErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, contentType, body string
		want                    int
	}{
		{"unknown item", "application/json", `{"customer_id":"c1","lines":[{"item_id":"lamp","quantity":1}]}`, 422},
		{"quantity below 1", "application/json", `{"customer_id":"c1","lines":[{"item_id":"book","quantity":0}]}`, 422},
		{"empty lines", "application/json", `{"customer_id":"c1","lines":[]}`, 422},
		{"duplicate lines", "application/json", `{"customer_id":"c1","lines":[{"item_id":"book","quantity":1},{"item_id":"book","quantity":1}]}`, 422},
		{"malformed", "application/json", `{"customer_id":`, 400},
		{"wrong field type", "application/json", `{"customer_id":"c1","lines":[{"item_id":"book","quantity":"two"}]}`, 400},
		{"wrong content type", "text/plain", book1, 415},
		{"too large", "application/json", `{"customer_id":"` + strings.Repeat("x", 1<<20) + `"}`, 413},
	}
	for _, tt := range tests {
		if code, _, body := f.do("POST", "/orders", tt.contentType, tt.body); code != tt.want {
			t.Errorf("%s: %d %v, want %d", tt.name, code, body, tt.want)
		}
	}
	if code, _, _ := f.do("POST", "/orders?wait=soon", "application/json", book1); code != 400 {
		t.Errorf("bad ?wait=: %d, want 400", code)
	}
}

func TestIdempotencyKeyOverHTTP(t *testing.T) {
	f := newFixture(t)
	code, _, first := f.do("POST", "/orders", "application/json", book1, "Idempotency-Key", "k1")
	if code != 201 {
		t.Fatalf("first: %d", code)
	}
	code, _, again := f.do("POST", "/orders", "application/json", book1, "Idempotency-Key", "k1")
	if code != 200 || again["id"] != first["id"] {
		t.Errorf("same key and body: %d %v, want 200 and order %v", code, again["id"], first["id"])
	}
	other := `{"customer_id":"c1","lines":[{"item_id":"book","quantity":2}]}`
	if code, _, _ := f.do("POST", "/orders", "application/json", other, "Idempotency-Key", "k1"); code != 409 {
		t.Errorf("same key, other body: %d, want 409", code)
	}
}

// finish applies successful replies for both steps, as the participants
// would, after delay.
func (f *fixture) finish(id string, delay time.Duration) {
	time.Sleep(delay)
	for _, r := range []struct {
		topic, typ string
		data       any
	}{{topic.StockSuccess, stockmsg.TypeReserved, stockmsg.Reserved{OrderID: id}},
		{topic.PaymentSuccess, paymentmsg.TypeCharged, paymentmsg.Charged{OrderID: id}}} {
		m, _ := envelope.New(r.typ, id, r.data)
		ctx := context.Background()
		tx, err := f.pool.Begin(ctx)
		if err != nil {
			f.t.Error(err)
			return
		}
		if err := f.saga.Handle(ctx, tx, consumer.Delivery{Message: m, Topic: r.topic, Key: id}); err != nil {
			f.t.Error(err)
		}
		if err := tx.Commit(ctx); err != nil {
			f.t.Error(err)
		}
	}
}

func TestWaitLongPollsUntilTerminal(t *testing.T) {
	f := newFixture(t)
	_, _, o := f.do("POST", "/orders", "application/json", book1)
	id := o["id"].(string)
	go f.finish(id, 300*time.Millisecond)
	start := time.Now()
	code, _, got := f.do("GET", "/orders/"+id+"?wait=10s", "", "")
	took := time.Since(start)
	if code != 200 || got["status"] != "COMPLETED" {
		t.Fatalf("GET ?wait=10s: %d %v, want COMPLETED", code, got["status"])
	}
	if took < 250*time.Millisecond || took > 5*time.Second {
		t.Errorf("long poll answered after %v, want soon after the order ended (~300ms)", took)
	}
	// A poll on a pending order ends with the wait.
	_, _, o2 := f.do("POST", "/orders", "application/json", book1)
	start = time.Now()
	if code, _, got := f.do("GET", "/orders/"+o2["id"].(string)+"?wait=500ms", "", ""); code != 200 || got["status"] != "PENDING" || time.Since(start) < 450*time.Millisecond {
		t.Errorf("wait on a pending order: %d %v after %v", code, got["status"], time.Since(start))
	}
}

func TestListFiltersAndPages(t *testing.T) {
	f := newFixture(t)
	var c1 []string
	for i := range 5 {
		_, _, o := f.do("POST", "/orders", "application/json", book1)
		c1 = append(c1, o["id"].(string))
		if i == 0 {
			f.do("POST", "/orders", "application/json", `{"customer_id":"c2","lines":[{"item_id":"book","quantity":1}]}`)
		}
	}
	f.finish(c1[0], 0)
	var seen []string
	path := "/orders?customer_id=c1&limit=2"
	for pages := 0; path != ""; pages++ {
		code, _, page := f.do("GET", path, "", "")
		if code != 200 || pages > 5 {
			t.Fatalf("GET %s: %d", path, code)
		}
		for _, o := range page["orders"].([]any) {
			seen = append(seen, o.(map[string]any)["id"].(string))
		}
		path = ""
		if next, ok := page["next"].(string); ok && next != "" {
			path = "/orders?customer_id=c1&limit=2&after=" + next
		}
	}
	newestFirst := slices.Clone(c1)
	slices.Reverse(newestFirst)
	if fmt.Sprint(seen) != fmt.Sprint(newestFirst) {
		t.Errorf("pages of c1's orders: %v, want %v, newest first", seen, newestFirst)
	}
	if _, _, page := f.do("GET", "/orders?status=COMPLETED", "", ""); len(page["orders"].([]any)) != 1 {
		t.Errorf("status filter: %v, want the one completed order", page["orders"])
	}
	for _, bad := range []string{"?status=DONE", "?limit=0", "?limit=x", "?after=nope"} {
		if code, _, _ := f.do("GET", "/orders"+bad, "", ""); code != 400 {
			t.Errorf("GET /orders%s: %d, want 400", bad, code)
		}
	}
}
