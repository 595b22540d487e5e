package payment

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// MaxIDLength bounds account ids, in characters: they are customer ids in
// orders, Kafka keys and index keys (SPEC section 5).
const MaxIDLength = 128

// Account is a customer's money. Its id is the customer id that orders
// name; its balance never goes below zero.
type Account struct {
	ID           string
	BalanceCents int64
	Currency     string
}

// ValidateID rejects ids that are empty, longer than MaxIDLength
// characters, or not text PostgreSQL can store (invalid UTF-8, NUL).
func ValidateID(id string) error {
	n := utf8.RuneCountInString(id)
	if n < 1 || n > MaxIDLength || !utf8.ValidString(id) || strings.ContainsRune(id, 0) {
		return fmt.Errorf("%w: account id must be 1 to %d characters of UTF-8 text without NUL", ErrInvalid, MaxIDLength)
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

// Deposit adds amountCents to a, by ValidateDeposit's rules. An amount
// that would take the balance past what it holds is refused as invalid
// input, in the words the store used when the database refused it, so
// that the API's answer stays the same.
func (a *Account) Deposit(amountCents int64) error {
	if err := ValidateDeposit(amountCents); err != nil {
		return err
	}
	if a.BalanceCents > math.MaxInt64-amountCents {
		return fmt.Errorf("%w: deposit to %s: amount out of range", ErrInvalid, a.ID)
	}
	a.BalanceCents += amountCents
	return nil
}

// Debit returns acct after c is taken from it, and whether c may be taken
// at all: the account exists (found), is in c's currency and holds at
// least c's amount, so that no balance goes below zero. When it may not,
// acct comes back unchanged and Explain says why. A store that cannot
// call it (a conditional UPDATE) states the same three conditions.
func Debit(c Charge, acct Account, found bool) (Account, bool) {
	if !found || acct.Currency != c.Currency || acct.BalanceCents < c.AmountCents {
		return acct, false
	}
	acct.BalanceCents -= c.AmountCents
	return acct, true
}
