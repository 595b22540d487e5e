package api

import (
	"errors"
	"net/http"

	"github.com/purchase-saga/messaging/problem"

	"github.com/purchase-saga/payment-service/internal/payment"
)

// fail writes err as a problem: the domain's sentinels map to 404 and 422,
// a *problem.Details stands as it is, and anything else is logged here,
// once, and answered 500 without internals.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var p *problem.Details
	switch {
	case errors.As(err, &p):
		problem.Write(w, p)
	case errors.Is(err, payment.ErrNotFound):
		problem.Error(w, http.StatusNotFound, "account "+r.PathValue("id")+" not found")
	case errors.Is(err, payment.ErrInvalid):
		problem.Error(w, http.StatusUnprocessableEntity, err.Error())
	default:
		a.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		problem.WriteErr(w, err)
	}
}
