package payment

import (
	"fmt"

	"github.com/purchase-saga/contract/paymentmsg"
)

// Status is where an order's charge stands.
type Status string

// Charge statuses. Refunded and Cancelled are final: a charge that
// arrives after either has no effect.
const (
	// Charged took the order's amount from the account.
	Charged Status = "CHARGED"
	// Refunded gave it back.
	Refunded Status = "REFUNDED"
	// Cancelled is a tombstone: the refund arrived before any charge.
	Cancelled Status = "CANCELLED"
)

// Charge is what payment has done, or is asked to do, for one order.
type Charge struct {
	OrderID     string
	AccountID   string
	AmountCents int64
	Currency    string
	Status      Status
}

// Validate reports a charge request that can never be applied, as an
// error wrapping ErrInvalid: no order id, a customer id that no account
// can have (see ValidateID), an amount below 1 cent, no currency.
func (c Charge) Validate() error {
	switch {
	case c.OrderID == "":
		return fmt.Errorf("%w: charge without order id", ErrInvalid)
	case c.AccountID == "":
		return fmt.Errorf("%w: charge without customer id", ErrInvalid)
	case ValidateID(c.AccountID) != nil:
		return fmt.Errorf("%w: charge for a customer id that no account can have", ErrInvalid)
	case c.AmountCents < 1:
		return fmt.Errorf("%w: charge of %d cents is not positive", ErrInvalid, c.AmountCents)
	case c.Currency == "":
		return fmt.Errorf("%w: charge without currency", ErrInvalid)
	}
	return nil
}

// Explain says why c could not be taken from acct, the account as it is
// now (found false when there is none): reason is one of the wire's
// rejection reasons (paymentmsg.ReasonUnknownAccount, …). The detail names
// the account once, and the currencies only by their first characters, so
// that it stays short; the reply bounds it again.
func Explain(c Charge, acct Account, found bool) (reason, detail string) {
	switch {
	case !found:
		return paymentmsg.ReasonUnknownAccount, fmt.Sprintf("no account %s", c.AccountID)
	case acct.Currency != c.Currency:
		return paymentmsg.ReasonCurrencyMismatch, fmt.Sprintf("account %s is in %.8s, the charge in %.8s", acct.ID, acct.Currency, c.Currency)
	}
	return paymentmsg.ReasonInsufficientFunds, fmt.Sprintf("account %s holds %d, the charge is %d", acct.ID, acct.BalanceCents, c.AmountCents)
}
