package api

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/purchase-saga/messaging/problem"

	"github.com/purchase-saga/payment-service/internal/payment"
	"github.com/purchase-saga/payment-service/internal/postgres"
)

// accountView is an account as the API shows it.
type accountView struct {
	ID           string `json:"id"`
	BalanceCents int64  `json:"balance_cents"`
	Currency     string `json:"currency"`
}

func view(a payment.Account) accountView {
	return accountView{ID: a.ID, BalanceCents: a.BalanceCents, Currency: a.Currency}
}

// putAccount opens an account; its body may be empty, since the currency
// can only be the deployment's.
func (a *API) putAccount(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req struct {
		Currency string `json:"currency"`
	}
	if err := problem.Decode(w, r, &req, true); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.Currency == "" {
		req.Currency = a.currency
	}
	if err := errors.Join(payment.ValidateID(id), payment.ValidateCurrency(req.Currency, a.currency)); err != nil {
		a.fail(w, r, err)
		return
	}
	var acct payment.Account
	var created bool
	err := postgres.InTx(r.Context(), a.pool, func(s *postgres.Store) (err error) {
		acct, created, err = s.CreateAccount(r.Context(), id, req.Currency)
		return err
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	problem.Put(w, created, "/accounts/"+url.PathEscape(id), view(acct))
}

// deposit adds money and answers with the account and the deposit's id.
func (a *API) deposit(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AmountCents int64 `json:"amount_cents"`
	}
	if err := problem.Decode(w, r, &req, false); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := payment.ValidateDeposit(req.AmountCents); err != nil {
		a.fail(w, r, err)
		return
	}
	var acct payment.Account
	var depositID int64
	err := postgres.InTx(r.Context(), a.pool, func(s *postgres.Store) (err error) {
		acct, depositID, err = s.Deposit(r.Context(), r.PathValue("id"), req.AmountCents)
		return err
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	problem.JSON(w, http.StatusCreated, struct {
		accountView
		DepositID int64 `json:"deposit_id"`
	}{view(acct), depositID})
}

func (a *API) getAccount(w http.ResponseWriter, r *http.Request) {
	var acct payment.Account
	var found bool
	err := postgres.InTx(r.Context(), a.pool, func(s *postgres.Store) (err error) {
		acct, found, err = s.Account(r.Context(), r.PathValue("id"))
		return err
	})
	if err == nil && !found {
		err = payment.ErrNotFound
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	problem.JSON(w, http.StatusOK, view(acct))
}
