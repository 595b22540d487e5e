package api

import (
	"errors"
	"net/http"

	"github.com/purchase-saga/messaging/problem"

	"github.com/purchase-saga/stock-service/internal/stock"
)

// fail writes err as a problem: the domain's sentinels map to 404 and 422,
// a *problem.Details stands as it is, and anything else is logged here,
// once, and answered 500 without internals.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	problem.Fail(w, r, a.log, err, func(err error) *problem.Details {
		switch {
		case errors.Is(err, stock.ErrNotFound):
			return problem.New(http.StatusNotFound, "item "+r.PathValue("id")+" not found")
		case errors.Is(err, stock.ErrInvalid):
			return invalid(err)
		}
		return nil
	})
}

// invalid lists each of err's validation failures.
func invalid(err error) *problem.Details {
	p := problem.New(http.StatusUnprocessableEntity, err.Error())
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			p.Errors = append(p.Errors, e.Error())
		}
		p.Detail = "the item is invalid"
	}
	return p
}
