package api

import (
	"errors"
	"net/http"

	"github.com/purchase-saga/messaging/httpjson"
	"github.com/purchase-saga/payment-service/internal/payment"
)

// decodeAccount reads and validates PUT /accounts/{id}'s optional body
// for account id, returning the account's currency. Its errors are a
// *problem.Details (4xx) or wrap payment.ErrInvalid (422).
func decodeAccount(w http.ResponseWriter, r *http.Request, id, deployment string) (currency string, err error) {
	var req struct {
		Currency string `json:"currency"`
	}
	if err := httpjson.Decode(w, r, &req, true); err != nil {
		return "", err
	}
	if req.Currency == "" {
		req.Currency = deployment
	}
	if err := errors.Join(payment.ValidateID(id), payment.ValidateCurrency(req.Currency, deployment)); err != nil {
		return "", err
	}
	return req.Currency, nil
}

// decodeDeposit reads and validates a deposit's body, returning its
// amount. Its errors are a *problem.Details (4xx) or wrap
// payment.ErrInvalid (422).
func decodeDeposit(w http.ResponseWriter, r *http.Request) (amountCents int64, err error) {
	var req struct {
		AmountCents int64 `json:"amount_cents"`
	}
	if err := httpjson.Decode(w, r, &req, false); err != nil {
		return 0, err
	}
	if err := payment.ValidateDeposit(req.AmountCents); err != nil {
		return 0, err
	}
	return req.AmountCents, nil
}

// existingID is the path's account id, or payment.ErrNotFound for one
// that no account can have (too long, a NUL, invalid UTF-8): it is never
// looked up.
func existingID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if payment.ValidateID(id) != nil {
		return "", payment.ErrNotFound
	}
	return id, nil
}
