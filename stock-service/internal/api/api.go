// Package api is stock-service's REST API (SPEC section 5): admins create,
// price and restock items; anyone reads them. Each write runs in one
// transaction with the item.updated message it causes.
package api

import (
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/purchase-saga/messaging/problem"
)

// API serves items from the stock database.
type API struct {
	pool     *pgxpool.Pool
	currency string
	token    string
	log      *slog.Logger
}

// New returns the API of a deployment in currency whose writes need the
// admin token. A nil log means slog.Default().
func New(pool *pgxpool.Pool, currency, adminToken string, log *slog.Logger) *API {
	if log == nil {
		log = slog.Default()
	}
	return &API{pool: pool, currency: currency, token: adminToken, log: log}
}

// Handler routes the API's endpoints.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("PUT /items/{id}", problem.RequireToken(a.token, http.HandlerFunc(a.putItem)))
	mux.Handle("POST /items/{id}/restock", problem.RequireToken(a.token, http.HandlerFunc(a.restock)))
	mux.HandleFunc("GET /items/{id}", a.getItem)
	mux.HandleFunc("GET /items", a.listItems)
	return mux
}
