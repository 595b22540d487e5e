// Package api is payment-service's REST API (SPEC section 5): admins open
// accounts and deposit money; anyone reads a balance. A deposit goes
// through postgres.DB.Update, which locks the account, so that concurrent
// deposits to one account run one after the other.
package api

import (
	"log/slog"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/purchase-saga/messaging/bearer"
	"github.com/purchase-saga/messaging/problem"
	"github.com/purchase-saga/messaging/service"

	"github.com/purchase-saga/payment-service/internal/payment"
	"github.com/purchase-saga/payment-service/internal/postgres"
)

// API serves accounts from the payment database.
type API struct {
	db       *postgres.DB
	currency string
	// admin guards the writes (bearer.Guard of the admin token).
	admin func(http.HandlerFunc) http.Handler
	edge  problem.Edge
}

// New returns the API of a deployment in currency whose writes need the
// admin token; a 422 says what is invalid in one detail. A nil log means slog.Default().
func New(pool *pgxpool.Pool, currency, adminToken string, log *slog.Logger) *API {
	return &API{db: postgres.Open(pool), currency: currency, admin: bearer.Guard(adminToken),
		edge: problem.Edge{Resource: "account", NotFound: payment.ErrNotFound, Invalid: payment.ErrInvalid, ListInvalid: false, Log: log}}
}

// Routes is the API's route table: each pattern it serves, with its
// handler. Handler serves exactly these; the OpenAPI document (OpenAPI)
// documents each, which its conformance test checks.
func (a *API) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"PUT /accounts/{id}":           a.admin(a.putAccount),
		"POST /accounts/{id}/deposits": a.admin(a.deposit),
		"GET /accounts/{id}":           http.HandlerFunc(a.getAccount),
	}
}

// Handler routes the API's endpoints (Routes).
func (a *API) Handler() http.Handler {
	return service.MuxOf(a.Routes())
}
