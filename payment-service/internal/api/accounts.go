package api

import (
	"net/http"
	"net/url"

	"github.com/purchase-saga/messaging/httpjson"
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
	currency, err := decodeAccount(w, r, id, a.currency)
	if err != nil {
		a.edge.Fail(w, r, err)
		return
	}
	var acct payment.Account
	var created bool
	err = a.db.InTx(r.Context(), func(s *postgres.Store) (err error) {
		acct, created, err = s.CreateAccount(r.Context(), id, currency)
		return err
	})
	if err != nil {
		a.edge.Fail(w, r, err)
		return
	}
	httpjson.Put(w, created, "/accounts/"+url.PathEscape(id), view(acct))
}

// deposit adds money and answers with the account and the deposit's id.
func (a *API) deposit(w http.ResponseWriter, r *http.Request) {
	amount, err := decodeDeposit(w, r)
	var id string
	if err == nil {
		id, err = existingID(r)
	}
	if err != nil {
		a.edge.Fail(w, r, err)
		return
	}
	acct, depositID, err := a.db.Update(r.Context(), id, func(acct *payment.Account) error {
		return acct.Deposit(amount)
	})
	if err != nil {
		a.edge.Fail(w, r, err)
		return
	}
	httpjson.JSON(w, http.StatusCreated, struct {
		accountView
		DepositID int64 `json:"deposit_id"`
	}{view(acct), depositID})
}

func (a *API) getAccount(w http.ResponseWriter, r *http.Request) {
	id, err := existingID(r)
	if err != nil {
		a.edge.Fail(w, r, err)
		return
	}
	var acct payment.Account
	var found bool
	err = a.db.InTx(r.Context(), func(s *postgres.Store) (err error) {
		acct, found, err = s.Account(r.Context(), id)
		return err
	})
	if err == nil && !found {
		err = payment.ErrNotFound
	}
	if err != nil {
		a.edge.Fail(w, r, err)
		return
	}
	httpjson.JSON(w, http.StatusOK, view(acct))
}
