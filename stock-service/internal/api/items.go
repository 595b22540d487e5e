package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/purchase-saga/messaging/httpjson"
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

// decodeItem reads and validates PUT /items/{id}'s body for item id. Its
// errors are a *problem.Details (4xx) or wrap stock.ErrInvalid (422).
func decodeItem(w http.ResponseWriter, r *http.Request, id, currency string) (stock.Details, error) {
	var req putItemRequest
	if err := httpjson.Decode(w, r, &req, false); err != nil {
		return stock.Details{}, err
	}
	if req.PriceCents == nil {
		return stock.Details{}, fmt.Errorf("%w: price_cents is required", stock.ErrInvalid)
	}
	if err := stock.ValidateID(id); err != nil {
		return stock.Details{}, err
	}
	d := stock.Details{Name: req.Name, PriceCents: *req.PriceCents, Currency: req.Currency}
	if err := d.Validate(currency); err != nil {
		return stock.Details{}, err
	}
	return d, nil
}

func (a *API) putItem(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	d, err := decodeItem(w, r, id, a.currency)
	if err != nil {
		a.edge.Fail(w, r, err)
		return
	}
	it, created, err := a.put(r.Context(), id, d)
	if err != nil {
		a.edge.Fail(w, r, err)
		return
	}
	httpjson.Put(w, created, "/items/"+url.PathEscape(id), view(it))
}

func (a *API) restock(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Quantity int64 `json:"quantity"`
	}
	if err := httpjson.Decode(w, r, &req, false); err != nil {
		a.edge.Fail(w, r, err)
		return
	}
	id, err := existingID(r)
	if err == nil {
		err = stock.ValidateRestock(req.Quantity)
	}
	if err != nil {
		a.edge.Fail(w, r, err)
		return
	}
	it, err := a.db.Update(r.Context(), id, func(it *stock.Item) error {
		return it.Restock(req.Quantity)
	})
	if err != nil {
		a.edge.Fail(w, r, err)
		return
	}
	httpjson.JSON(w, http.StatusOK, view(it))
}

// put sets d on item id through Update when the item exists, and creates
// it otherwise; created says which. An item that another request created
// between the two is updated after all: items are never deleted, so a
// second Update finds it.
func (a *API) put(ctx context.Context, id string, d stock.Details) (it stock.Item, created bool, err error) {
	set := func(it *stock.Item) error { return it.SetDetails(d, a.currency) }
	it, err = a.db.Update(ctx, id, set)
	if !errors.Is(err, stock.ErrNotFound) {
		return it, false, err
	}
	err = a.db.InTx(ctx, func(s *postgres.Store) (err error) {
		it, created, err = s.CreateItem(ctx, id, d)
		return err
	})
	if err != nil || created {
		return it, created, err
	}
	it, err = a.db.Update(ctx, id, set)
	return it, false, err
}

// existingID is the path's item id, or stock.ErrNotFound for one that no
// item can have (too long, a NUL, invalid UTF-8): it is never looked up.
func existingID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if stock.ValidateID(id) != nil {
		return "", stock.ErrNotFound
	}
	return id, nil
}

func (a *API) getItem(w http.ResponseWriter, r *http.Request) {
	id, err := existingID(r)
	if err != nil {
		a.edge.Fail(w, r, err)
		return
	}
	var it stock.Item
	err = a.db.InTx(r.Context(), func(s *postgres.Store) (err error) {
		it, err = s.Item(r.Context(), id)
		return err
	})
	if err != nil {
		a.edge.Fail(w, r, err)
		return
	}
	httpjson.JSON(w, http.StatusOK, view(it))
}

func (a *API) listItems(w http.ResponseWriter, r *http.Request) {
	after, limit, problems := httpjson.PageQuery(r.URL.Query(), func(id string) (string, bool) {
		return id, stock.ValidateID(id) == nil
	})
	if len(problems) > 0 {
		problem.InvalidQuery(w, problems)
		return
	}
	var items []stock.Item
	err := a.db.InTx(r.Context(), func(s *postgres.Store) (err error) {
		items, err = s.Items(r.Context(), after, limit+1) // one more tells whether there is a next page
		return err
	})
	if err != nil {
		a.edge.Fail(w, r, err)
		return
	}
	items, next := httpjson.Cut(items, limit, func(it stock.Item) string { return it.ID })
	page := Page{Items: make([]itemView, len(items)), Next: next}
	for i, it := range items {
		page.Items[i] = view(it)
	}
	httpjson.JSON(w, http.StatusOK, page)
}

// Page is a page of GET /items, shaped as every list of the system is: the
// list under the resource's name and the cursor of the next page.
type Page struct {
	Items []itemView `json:"items"`
	// Next is the cursor of the following page (?after=), empty at the end.
	Next string `json:"next,omitempty"`
}
