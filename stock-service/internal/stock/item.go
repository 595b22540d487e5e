package stock

import (
	"errors"
	"fmt"
	"strings"
)

// MaxIDLength bounds item ids, which travel as Kafka keys and in URLs.
const MaxIDLength = 200

// Item is a thing for sale with the units held for orders. Reserved never
// exceeds OnHand: the difference is what can still be sold.
type Item struct {
	ID         string
	Name       string
	PriceCents int64
	Currency   string
	OnHand     int64
	Reserved   int64
}

// Available is how many units can still be reserved.
func (i Item) Available() int64 { return i.OnHand - i.Reserved }

// Details are what an admin sets on an item; stock levels change only
// through restocks and reservations.
type Details struct {
	Name       string
	PriceCents int64
	Currency   string
}

// Validate reports every problem with d as errors wrapping ErrInvalid.
// currency is the deployment's: one currency per deployment (SPEC 4).
func (d Details) Validate(currency string) error {
	var errs []error
	if strings.TrimSpace(d.Name) == "" {
		errs = append(errs, fmt.Errorf("%w: name must not be empty", ErrInvalid))
	}
	if d.PriceCents < 0 {
		errs = append(errs, fmt.Errorf("%w: price_cents must be at least 0", ErrInvalid))
	}
	if d.Currency != currency {
		errs = append(errs, fmt.Errorf("%w: currency %q is not this deployment's %s", ErrInvalid, d.Currency, currency))
	}
	return errors.Join(errs...)
}

// ValidateID rejects ids that are empty or too long to be a sensible key.
func ValidateID(id string) error {
	if id == "" || len(id) > MaxIDLength {
		return fmt.Errorf("%w: item id must have 1 to %d bytes", ErrInvalid, MaxIDLength)
	}
	return nil
}

// ValidateRestock rejects a restock that would not add units.
func ValidateRestock(quantity int64) error {
	if quantity < 1 {
		return fmt.Errorf("%w: quantity must be at least 1", ErrInvalid)
	}
	return nil
}
