package payment_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/payment-service/internal/payment"
)

func TestChargeValidate(t *testing.T) {
	ok := payment.Charge{OrderID: "o1", AccountID: "c1", AmountCents: 1, Currency: "EUR"}
	tests := []struct {
		name   string
		change func(*payment.Charge)
		valid  bool
	}{
		{"valid", func(*payment.Charge) {}, true},
		{"no order", func(c *payment.Charge) { c.OrderID = "" }, false},
		{"no customer", func(c *payment.Charge) { c.AccountID = "" }, false},
		{"zero amount", func(c *payment.Charge) { c.AmountCents = 0 }, false},
		{"no currency", func(c *payment.Charge) { c.Currency = "" }, false},
		{"longest customer id", func(c *payment.Charge) { c.AccountID = strings.Repeat("é", payment.MaxIDLength) }, true},
		{"customer id too long", func(c *payment.Charge) { c.AccountID = strings.Repeat("c", payment.MaxIDLength+1) }, false},
		{"customer id of 230 KB", func(c *payment.Charge) { c.AccountID = strings.Repeat("c", 230_000) }, false},
		{"NUL in customer id", func(c *payment.Charge) { c.AccountID = "c\x001" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.change(&c)
			err := c.Validate()
			if got := err == nil; got != tt.valid {
				t.Errorf("Validate() = %v, want valid %v", err, tt.valid)
			}
			if err != nil && !errors.Is(err, payment.ErrInvalid) {
				t.Errorf("err = %v, want payment.ErrInvalid", err)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	id := strings.Repeat("c", payment.MaxIDLength)
	c := payment.Charge{OrderID: "o1", AccountID: id, AmountCents: 500, Currency: "EUR"}
	tests := []struct {
		name  string
		acct  payment.Account
		found bool
		want  string
	}{
		{"no account", payment.Account{}, false, paymentmsg.ReasonUnknownAccount},
		{"other currency", payment.Account{ID: id, Currency: "USD", BalanceCents: 900}, true, paymentmsg.ReasonCurrencyMismatch},
		{"too little", payment.Account{ID: id, Currency: "EUR", BalanceCents: 499}, true, paymentmsg.ReasonInsufficientFunds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reason, detail := payment.Explain(c, tt.acct, tt.found)
			if reason != tt.want {
				t.Errorf("Explain = %q, want %q", reason, tt.want)
			}
			if got := strings.Count(detail, id); got > 1 || len(detail) > len(id)+100 {
				t.Errorf("detail %q names the customer id %d times or is long", detail, got)
			}
		})
	}
}

func TestDebit(t *testing.T) {
	c := payment.Charge{OrderID: "o1", AccountID: "c1", AmountCents: 500, Currency: "EUR"}
	tests := []struct {
		name  string
		acct  payment.Account
		found bool
		ok    bool
		after int64
	}{
		{"no account", payment.Account{}, false, false, 0},
		{"other currency", payment.Account{ID: "c1", Currency: "USD", BalanceCents: 900}, true, false, 900},
		{"too little", payment.Account{ID: "c1", Currency: "EUR", BalanceCents: 499}, true, false, 499},
		{"exactly enough", payment.Account{ID: "c1", Currency: "EUR", BalanceCents: 500}, true, true, 0},
		{"more than enough", payment.Account{ID: "c1", Currency: "EUR", BalanceCents: 900}, true, true, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after, ok := payment.Debit(c, tt.acct, tt.found)
			if ok != tt.ok || after.BalanceCents != tt.after {
				t.Errorf("Debit = %d, %v; want %d, %v", after.BalanceCents, ok, tt.after, tt.ok)
			}
			if !ok && after != tt.acct {
				t.Errorf("a refused debit changed the account to %+v", after)
			}
			if reason, _ := payment.Explain(c, tt.acct, tt.found); !ok && reason == "" {
				t.Errorf("a refused debit has no explanation")
			}
		})
	}
}
