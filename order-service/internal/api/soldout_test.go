package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/purchase-saga/order-service/internal/api"
	"github.com/purchase-saga/order-service/internal/postgres"
)

// The sold-out gate: an order for more than the catalog shows available
// is answered 409 /out-of-stock naming the item, and nothing is written;
// an order within it is placed.
func TestOrderBeyondTheCatalogsStockIsRefusedAtOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := postgres.NewStore(f.pool).Catalog().Upsert(ctx, postgres.Item{ID: "pen", Name: "Pen", PriceCents: 100, Currency: "EUR", Available: 0}); err != nil {
		t.Fatal(err)
	}
	status, _, body := f.do(http.MethodPost, "/orders", "application/json",
		`{"customer_id":"c1","lines":[{"item_id":"book","quantity":4},{"item_id":"pen","quantity":1}]}`)
	if status != http.StatusConflict {
		t.Fatalf("status %d (%v), want 409", status, body)
	}
	if got := body["type"]; got != api.TypeOutOfStock || !strings.HasSuffix(api.TypeOutOfStock, "/out-of-stock") {
		t.Errorf("type %v, want %s", got, api.TypeOutOfStock)
	}
	detail, _ := body["detail"].(string)
	if !strings.Contains(detail, "book (4 requested, 3 available)") || !strings.Contains(detail, "pen (1 requested, 0 available)") {
		t.Errorf("detail %q does not name both items short of stock", detail)
	}
	var orders, rows int
	if err := f.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM outbox)`).Scan(&orders, &rows); err != nil {
		t.Fatal(err)
	}
	if orders != 0 || rows != 0 {
		t.Errorf("a refused order left %d orders and %d outbox rows", orders, rows)
	}
	if status, _, body := f.do(http.MethodPost, "/orders", "application/json",
		`{"customer_id":"c1","lines":[{"item_id":"book","quantity":3}]}`); status != http.StatusCreated {
		t.Errorf("order within the stock: status %d (%v), want 201", status, body)
	}
}
