package stock

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Bounds of what an item and an order's line carry (SPEC section 5): ids
// travel as Kafka keys and in URLs, names in every item.updated message.
const (
	MaxIDLength   = 128           // characters of an item id
	MaxNameLength = 200           // characters of an item's name
	MaxQuantity   = 1_000_000     // units of one order line
	MaxRestock    = 1_000_000_000 // units of one restock, far from overflowing on_hand
)

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
	switch {
	case strings.TrimSpace(d.Name) == "":
		errs = append(errs, fmt.Errorf("%w: name must not be empty", ErrInvalid))
	case !validText(d.Name, MaxNameLength):
		errs = append(errs, fmt.Errorf("%w: name must be at most %d characters of UTF-8 text without NUL", ErrInvalid, MaxNameLength))
	}
	if d.PriceCents < 0 {
		errs = append(errs, fmt.Errorf("%w: price_cents must be at least 0", ErrInvalid))
	}
	if d.Currency != currency {
		errs = append(errs, fmt.Errorf("%w: currency %q is not this deployment's %s", ErrInvalid, d.Currency, currency))
	}
	return errors.Join(errs...)
}

// ValidateID rejects ids that are empty, longer than MaxIDLength
// characters, or not text PostgreSQL can store (invalid UTF-8, NUL).
func ValidateID(id string) error {
	if id == "" || !validText(id, MaxIDLength) {
		return fmt.Errorf("%w: item id must be 1 to %d characters of UTF-8 text without NUL", ErrInvalid, MaxIDLength)
	}
	return nil
}

// validText reports whether s is valid UTF-8 of at most limit characters
// without NUL.
func validText(s string, limit int) bool {
	return utf8.ValidString(s) && utf8.RuneCountInString(s) <= limit && !strings.ContainsRune(s, 0)
}

// ValidateRestock rejects a restock that would not add units or adds more
// than MaxRestock.
func ValidateRestock(quantity int64) error {
	if quantity < 1 || quantity > MaxRestock {
		return fmt.Errorf("%w: quantity must be from 1 to %d", ErrInvalid, MaxRestock)
	}
	return nil
}

// Restock adds quantity units to i, by ValidateRestock's rules. Units
// that would take OnHand past what it holds are refused as invalid input,
// in the words the store used when the database refused them, so that the
// API's answer stays the same.
func (i *Item) Restock(quantity int64) error {
	if err := ValidateRestock(quantity); err != nil {
		return err
	}
	if i.OnHand > math.MaxInt64-quantity {
		return fmt.Errorf("%w: restock %s: quantity out of range", ErrInvalid, i.ID)
	}
	i.OnHand += quantity
	return nil
}

// SetDetails sets what an admin sets on i, by Validate's rules in the
// deployment's currency; its stock stays as it is.
func (i *Item) SetDetails(d Details, currency string) error {
	if err := d.Validate(currency); err != nil {
		return err
	}
	i.Name, i.PriceCents, i.Currency = d.Name, d.PriceCents, d.Currency
	return nil
}
