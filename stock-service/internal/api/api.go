// Package api is stock-service's REST API (SPEC section 5): admins create,
// price and restock items; anyone reads them. Each write runs in one
// unit of work with the item.updated message it causes; a write to an
// existing item goes through postgres.DB.Update, which locks the item, so
// that concurrent writes to one item run one after the other.
package api

import (
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/purchase-saga/messaging/bearer"
	"github.com/purchase-saga/messaging/problem"
	"github.com/purchase-saga/messaging/service"

	"github.com/purchase-saga/stock-service/internal/postgres"
	"github.com/purchase-saga/stock-service/internal/stock"
)

// API serves items from the stock database.
type API struct {
	db       *postgres.DB
	currency string
	// admin guards the writes (bearer.Guard of the admin token).
	admin func(http.HandlerFunc) http.Handler
	edge  problem.Edge
}

// New returns the API of a deployment in currency whose writes need the
// admin token; a 422 lists each of an item's validation failures. A nil log means slog.Default().
func New(pool *pgxpool.Pool, currency, adminToken string, log *slog.Logger) *API {
	return &API{db: postgres.Open(pool), currency: currency, admin: bearer.Guard(adminToken),
		edge: problem.Edge{Resource: "item", NotFound: stock.ErrNotFound, Invalid: stock.ErrInvalid, ListInvalid: true, Log: log}}
}

// Handler routes the API's endpoints.
func (a *API) Handler() http.Handler {
	mux := service.NewMux()
	mux.Handle("PUT /items/{id}", a.admin(a.putItem))
	mux.Handle("POST /items/{id}/restock", a.admin(a.restock))
	mux.HandleFunc("GET /items/{id}", a.getItem)
	mux.HandleFunc("GET /items", a.listItems)
	return mux
}
