package api

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/purchase-saga/messaging/problem"

	"github.com/purchase-saga/stock-service/internal/postgres"
	"github.com/purchase-saga/stock-service/internal/stock"
)

// putItemRequest is PUT /items/{id}'s body. PriceCents is a pointer so
// that a missing price is refused rather than taken as free.
type putItemRequest struct {
	Name       string `json:"name"`
	PriceCents *int64 `json:"price_cents"`
	Currency   string `json:"currency"`
}

func (a *API) putItem(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req putItemRequest
	if err := problem.Decode(w, r, &req, false); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.PriceCents == nil {
		a.fail(w, r, fmt.Errorf("%w: price_cents is required", stock.ErrInvalid))
		return
	}
	d := stock.Details{Name: req.Name, PriceCents: *req.PriceCents, Currency: req.Currency}
	if err := stock.ValidateID(id); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := d.Validate(a.currency); err != nil {
		a.fail(w, r, err)
		return
	}
	var it stock.Item
	var created bool
	err := postgres.InTx(r.Context(), a.pool, func(s *postgres.Store) (err error) {
		it, created, err = s.PutItem(r.Context(), id, d)
		return err
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	problem.Put(w, created, "/items/"+url.PathEscape(id), view(it))
}

func (a *API) restock(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Quantity int64 `json:"quantity"`
	}
	if err := problem.Decode(w, r, &req, false); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := stock.ValidateRestock(req.Quantity); err != nil {
		a.fail(w, r, err)
		return
	}
	var it stock.Item
	err := postgres.InTx(r.Context(), a.pool, func(s *postgres.Store) (err error) {
		it, err = s.Restock(r.Context(), r.PathValue("id"), req.Quantity)
		return err
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	problem.JSON(w, http.StatusOK, view(it))
}

func (a *API) getItem(w http.ResponseWriter, r *http.Request) {
	var it stock.Item
	err := postgres.InTx(r.Context(), a.pool, func(s *postgres.Store) (err error) {
		it, err = s.Item(r.Context(), r.PathValue("id"))
		return err
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	problem.JSON(w, http.StatusOK, view(it))
}

func (a *API) listItems(w http.ResponseWriter, r *http.Request) {
	var items []stock.Item
	err := postgres.InTx(r.Context(), a.pool, func(s *postgres.Store) (err error) {
		items, err = s.Items(r.Context())
		return err
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]itemView, len(items))
	for i, it := range items {
		out[i] = view(it)
	}
	problem.JSON(w, http.StatusOK, out)
}
