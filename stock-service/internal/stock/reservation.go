package stock

import "fmt"

// Status is where an order's reservation stands.
type Status string

// Reservation statuses. Released and Cancelled are final: a reserve that
// arrives after either has no effect.
const (
	// Reserved holds the order's units.
	Reserved Status = "RESERVED"
	// Released gave the units back.
	Released Status = "RELEASED"
	// Cancelled is a tombstone: the release arrived before any reserve.
	Cancelled Status = "CANCELLED"
)

// Reservation is what stock has done for one order.
type Reservation struct {
	OrderID string
	Status  Status
	Lines   []Line
}

// Reason says why a reservation was refused; the values are the wire's.
type Reason string

// Refusal reasons.
const (
	ReasonOutOfStock       Reason = "out_of_stock"
	ReasonUnknownItem      Reason = "unknown_item"
	ReasonCurrencyMismatch Reason = "currency_mismatch"
	// ReasonCancelled refuses a reserve that came after the release.
	ReasonCancelled Reason = "cancelled"
	// ReasonExpired refuses a reserve that came after its saga's deadline.
	ReasonExpired Reason = "expired"
)

// Refusal is a business "no" to a reservation: nothing was reserved.
type Refusal struct {
	Reason Reason
	Detail string
}

// Check decides whether lines (merged, see Merge) can all be reserved from
// items, which must be the current, locked state of the lines' items. It
// returns nil when they can. currency is the deployment's.
func Check(lines []Line, items map[string]Item, currency string) *Refusal {
	for _, l := range lines {
		it, ok := items[l.ItemID]
		switch {
		case !ok:
			return &Refusal{ReasonUnknownItem, fmt.Sprintf("item %s does not exist", l.ItemID)}
		case it.Currency != currency:
			return &Refusal{ReasonCurrencyMismatch, fmt.Sprintf("item %s is priced in %s, not %s", l.ItemID, it.Currency, currency)}
		case it.Available() < l.Quantity:
			return &Refusal{ReasonOutOfStock, fmt.Sprintf("item %s: %d requested, %d available", l.ItemID, l.Quantity, it.Available())}
		}
	}
	return nil
}
