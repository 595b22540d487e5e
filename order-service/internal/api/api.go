// Package api is order-service's REST API (SPEC section 5): placing
// orders, reading one with an optional long poll, and listing them.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/purchase-saga/messaging/httpjson"
	"github.com/purchase-saga/messaging/problem"
	"github.com/purchase-saga/messaging/service"
	"github.com/purchase-saga/messaging/trace"
	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
	"github.com/purchase-saga/order-service/internal/saga"
)

// MaxWait caps ?wait=.
const MaxWait = 60 * time.Second

// API serves the order endpoints.
type API struct {
	Saga *saga.Saga
	// Store serves the reads that are not the saga's: lists of orders and
	// the catalog.
	Store  *postgres.Store
	Waiter *saga.Waiter
	Log    *slog.Logger
}

// Routes is the API's route table: each pattern it serves, with its
// handler. Handler serves exactly these; the OpenAPI document (OpenAPI)
// documents each, which its conformance test checks.
func (a *API) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"POST /orders":      http.HandlerFunc(a.place),
		"GET /orders/{id}":  http.HandlerFunc(a.get),
		"GET /orders":       http.HandlerFunc(a.list),
		"GET /catalog/{id}": http.HandlerFunc(a.catalogItem),
	}
}

// Handler routes the API's endpoints (Routes).
func (a *API) Handler() http.Handler {
	return service.MuxOf(a.Routes())
}

func (a *API) place(w http.ResponseWriter, r *http.Request) {
	wait, err := parseWait(r)
	if err != nil {
		problem.WriteErr(w, err)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if err := checkIdempotencyKey(key); err != nil {
		problem.WriteErr(w, err)
		return
	}
	req, err := decodePlace(w, r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	o, created, err := a.Saga.Place(r.Context(), req, key)
	var overload *order.OverloadError
	if errors.As(err, &overload) {
		w.Header().Set("Retry-After", strconv.Itoa(int(overload.RetryAfter.Seconds())))
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// The rest of the request, its log line included, is about this saga.
	ctx := trace.WithSaga(r.Context(), o.ID)
	a.Log.DebugContext(ctx, "order placed", "created", created, "customer_id", o.CustomerID,
		"amount_cents", o.AmountCents, "lines", len(o.Lines))
	if wait > 0 && !o.Terminal() {
		if o, err = a.Saga.Wait(r.Context(), a.Waiter, o, wait); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	w.Header().Set("Location", "/orders/"+o.ID)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	httpjson.JSON(w, status, o)
}

func (a *API) get(w http.ResponseWriter, r *http.Request) {
	wait, err := parseWait(r)
	if err != nil {
		problem.WriteErr(w, err)
		return
	}
	id, ok := orderID(r.PathValue("id"))
	if !ok {
		problem.Error(w, http.StatusNotFound, "no such order: an order id is a UUID such as 01900000-0000-7000-8000-000000000000")
		return
	}
	o, err := a.Saga.Get(trace.WithSaga(r.Context(), id), a.Waiter, id, wait)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.JSON(w, http.StatusOK, o)
}

// Page is a page of GET /orders.
type Page struct {
	Orders []order.Order `json:"orders"`
	// Next is the cursor of the following page (?after=), empty at the end.
	Next string `json:"next,omitempty"`
}

func (a *API) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := postgres.Filter{CustomerID: q.Get("customer_id"), Status: order.Status(q.Get("status"))}
	var problems []string
	f.After, f.Limit, problems = httpjson.PageQuery(q, orderID)
	switch f.Status {
	case "", order.Pending, order.Completed, order.Failed:
	default:
		problems = append(problems, "status is not PENDING, COMPLETED or FAILED")
	}
	if f.CustomerID != "" && !order.ValidID(f.CustomerID) {
		problems = append(problems, fmt.Sprintf("customer_id must be 1 to %d characters", order.MaxIDLength))
	}
	if len(problems) > 0 {
		problem.InvalidQuery(w, problems)
		return
	}
	want := f.Limit
	f.Limit++ // one more tells whether there is a next page
	orders, err := a.Store.Orders().List(r.Context(), f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var page Page
	page.Orders, page.Next = httpjson.Cut(orders, want, func(o order.Order) string { return o.ID })
	httpjson.JSON(w, http.StatusOK, page)
}

// catalogItem shows the read model's view of an item: what POST /orders
// prices against.
func (a *API) catalogItem(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !order.ValidID(id) {
		problem.Error(w, http.StatusNotFound, "no such item in the catalog")
		return
	}
	items, err := a.Store.Catalog().Items(r.Context(), []string{id})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	it, ok := items[id]
	if !ok {
		problem.Error(w, http.StatusNotFound, fmt.Sprintf("item %q is not in the catalog", id))
		return
	}
	httpjson.JSON(w, http.StatusOK, it)
}

func parseWait(r *http.Request) (time.Duration, error) {
	s := r.URL.Query().Get("wait")
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, problem.New(http.StatusBadRequest, fmt.Sprintf("wait %q is not a duration such as 5s", s))
	}
	return min(d, MaxWait), nil
}

// fail maps domain errors to problems, once, at the edge.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	problem.Fail(w, r, a.Log, err, func(err error) *problem.Details { return known(r.Context(), err) })
}

// Problem types of the refusals of SPEC section 12.
const (
	// TypeOutOfStock: the catalog shows too little stock for the order.
	TypeOutOfStock = "/problems/out-of-stock"
	// TypeOverloaded: too many sagas in flight to take one more (429).
	TypeOverloaded = "/problems/overloaded"
)

// outOfStock is the 409 of SPEC section 12: nothing placed, the items short
// of stock named (in detail, and their ids in errors).
func outOfStock(e *order.SoldOutError) *problem.Details {
	p := &problem.Details{Type: TypeOutOfStock, Title: "Out of stock", Status: http.StatusConflict, Detail: e.Error()}
	for _, s := range e.Items {
		p.Errors = append(p.Errors, s.ItemID)
	}
	return p
}

// known is the problem a domain error stands for, nil for an internal one.
func known(ctx context.Context, err error) *problem.Details {
	var invalid *order.ValidationError
	var soldOut *order.SoldOutError
	var overload *order.OverloadError
	switch {
	case errors.As(err, &invalid):
		return &problem.Details{Type: "about:blank", Title: "Unprocessable Entity",
			Status: http.StatusUnprocessableEntity, Detail: invalid.Error(), Errors: invalid.Problems}
	case errors.As(err, &soldOut):
		return outOfStock(soldOut)
	case errors.As(err, &overload):
		return &problem.Details{Type: TypeOverloaded, Title: "Too Many Requests", Status: http.StatusTooManyRequests,
			Detail: "the shop has as many orders in flight as it can finish in time; nothing was placed: try again after Retry-After seconds"}
	case errors.Is(err, order.ErrNotFound):
		return problem.New(http.StatusNotFound, "no such order")
	case errors.Is(err, order.ErrIdempotencyKey):
		return problem.New(http.StatusConflict, "Idempotency-Key was used with a different request")
	case ctx.Err() != nil:
		return problem.New(http.StatusServiceUnavailable, "request cancelled")
	}
	return nil
}
