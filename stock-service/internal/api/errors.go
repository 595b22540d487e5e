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
	var p *problem.Details
	switch {
	case errors.As(err, &p):
		problem.Write(w, p)
	case errors.Is(err, stock.ErrNotFound):
		problem.Error(w, http.StatusNotFound, "item "+r.PathValue("id")+" not found")
	case errors.Is(err, stock.ErrInvalid):
		problem.Write(w, invalid(err))
	default:
		a.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		problem.WriteErr(w, err)
	}
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
