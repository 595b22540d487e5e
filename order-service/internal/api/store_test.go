package api_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/messaging/testdb"
	"github.com/purchase-saga/migrations"
	"github.com/purchase-saga/order-service/internal/api"
	"github.com/purchase-saga/order-service/internal/postgres"
	"github.com/purchase-saga/order-service/internal/saga"
)

// The list of orders and the catalog's items are read through the API's
// store: here the only one on a pool whose statements are counted (the
// saga has a store of its own), and each read is one statement on it.
func TestListAndItemReadsGoThroughTheStore(t *testing.T) {
	db := testdb.New(t, func(ctx context.Context, db *sql.DB) error { return migrations.Up(ctx, db, migrations.Order) })
	ctx := context.Background()
	sagaStore := postgres.NewStore(db.Pool)
	if err := sagaStore.Catalog().Upsert(ctx, postgres.Item{ID: "book", Name: "Book", PriceCents: 500, Currency: "EUR", Available: 3}); err != nil {
		t.Fatal(err)
	}
	s := &saga.Saga{Store: sagaStore, Currency: "EUR", Timeout: time.Minute, Log: slog.Default()}
	o, _, err := s.Place(ctx, saga.PlaceRequest{CustomerID: "c1", Lines: []saga.LineRequest{{ItemID: "book", Quantity: 1}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	counting, statements := servicetest.CountingPool(t, db)
	srv := httptest.NewServer((&api.API{Saga: s, Store: postgres.NewStore(counting), Log: slog.Default()}).Handler())
	defer srv.Close()
	get := func(path string, v any) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}

	statements.Reset()
	var page api.Page
	get("/orders?customer_id=c1", &page)
	if len(page.Orders) != 1 || page.Orders[0].ID != o.ID {
		t.Errorf("GET /orders: %+v, want the order placed", page)
	}
	if got := statements.SQL(); len(got) != 1 || !strings.Contains(got[0], "FROM orders") {
		t.Errorf("GET /orders sent %q through the store, want the one read of orders", got)
	}

	statements.Reset()
	var item postgres.Item
	get("/catalog/book", &item)
	if item.ID != "book" || item.Available != 3 {
		t.Errorf("GET /catalog/book: %+v, want the book with 3 available", item)
	}
	if got := statements.SQL(); len(got) != 1 || !strings.Contains(got[0], "FROM catalog") {
		t.Errorf("GET /catalog/book sent %q through the store, want the one read of the catalog", got)
	}
}
