package payment

import "fmt"

// MaxIDLength bounds account ids, which are customer ids in orders.
const MaxIDLength = 200

// Account is a customer's money. Its id is the customer id that orders
// name; its balance never goes below zero.
type Account struct {
	ID           string
	BalanceCents int64
	Currency     string
}

// ValidateID rejects ids that are empty or too long to be a sensible key.
func ValidateID(id string) error {
	if id == "" || len(id) > MaxIDLength {
		return fmt.Errorf("%w: account id must have 1 to %d bytes", ErrInvalid, MaxIDLength)
	}
	return nil
}

// ValidateCurrency refuses an account in any currency but the
// deployment's: one currency per deployment (SPEC 4).
func ValidateCurrency(currency, deployment string) error {
	if currency != deployment {
		return fmt.Errorf("%w: currency %q is not this deployment's %s", ErrInvalid, currency, deployment)
	}
	return nil
}

// ValidateDeposit refuses a deposit that would not add money.
func ValidateDeposit(amountCents int64) error {
	if amountCents < 1 {
		return fmt.Errorf("%w: amount_cents must be at least 1", ErrInvalid)
	}
	return nil
}
