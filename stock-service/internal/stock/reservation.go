package stock

import (
	"fmt"

	"github.com/purchase-saga/contract/stockmsg"
)

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

// Check decides whether lines (merged, see Merge) can all be reserved from
// items, which must be the current, locked state of the lines' items, and
// when not, why: reason is one of the wire's rejection reasons
// (stockmsg.ReasonOutOfStock, …), detail says which line and how. reason
// is "" when they can. currency is the deployment's.
func Check(lines []Line, items map[string]Item, currency string) (reason, detail string) {
	for _, l := range lines {
		it, ok := items[l.ItemID]
		switch {
		case !ok:
			return stockmsg.ReasonUnknownItem, fmt.Sprintf("item %s does not exist", l.ItemID)
		case it.Currency != currency:
			return stockmsg.ReasonCurrencyMismatch, fmt.Sprintf("item %s is priced in %s, not %s", l.ItemID, it.Currency, currency)
		case it.Available() < l.Quantity:
			return stockmsg.ReasonOutOfStock, fmt.Sprintf("item %s: %d requested, %d available", l.ItemID, l.Quantity, it.Available())
		}
	}
	return "", ""
}
