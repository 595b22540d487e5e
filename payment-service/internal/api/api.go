// Package api is payment-service's REST API (SPEC section 5): admins open
// accounts and deposit money; anyone reads a balance.
package api

import (
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/purchase-saga/messaging/problem"
)

// API serves accounts from the payment database.
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
	mux.Handle("PUT /accounts/{id}", problem.RequireToken(a.token, http.HandlerFunc(a.putAccount)))
	mux.Handle("POST /accounts/{id}/deposits", problem.RequireToken(a.token, http.HandlerFunc(a.deposit)))
	mux.HandleFunc("GET /accounts/{id}", a.getAccount)
	return mux
}
