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
	problem.Fail(w, r, a.log, err, func(err error) *problem.Details {
		switch {
		case errors.Is(err, payment.ErrNotFound):
			return problem.New(http.StatusNotFound, "account "+r.PathValue("id")+" not found")
		case errors.Is(err, payment.ErrInvalid):
			return problem.New(http.StatusUnprocessableEntity, err.Error())
		}
		return nil
	})
}
