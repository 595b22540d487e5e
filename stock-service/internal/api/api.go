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

// Routes is the API's route table: each pattern it serves, with its
// handler. Handler serves exactly these; the OpenAPI document (OpenAPI)
// documents each, which its conformance test checks.
func (a *API) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"PUT /items/{id}":          a.admin(a.putItem),
		"POST /items/{id}/restock": a.admin(a.restock),
		"GET /items/{id}":          http.HandlerFunc(a.getItem),
		"GET /items":               http.HandlerFunc(a.listItems),
	}
}

// Handler routes the API's endpoints (Routes).
func (a *API) Handler() http.Handler {
	return service.MuxOf(a.Routes())
}
