// Package stockmsg is stock-service's part of the contract: the commands it
// accepts and the replies and events it emits, as they travel in the
// envelope's data. Other services import it; it imports nothing of stock.
package stockmsg

import (
	"time"

	"github.com/purchase-saga/contract/reply"
)

// Message types.
const (
	TypeReserve     = "stock.reserve"  // on topic stock
	TypeRelease     = "stock.release"  // on topic stock.compensation
	TypeReserved    = "stock.reserved" // on topic stock.success
	TypeReleased    = "stock.released" // on topic stock.success
	TypeRejected    = "stock.rejected" // on topic stock.dlt, dlt-reason rejected
	TypeItemUpdated = "item.updated"   // on topic items, key = item id
)

// Rejection reasons, in Rejected.Reason.
const (
	ReasonOutOfStock       = "out_of_stock"
	ReasonUnknownItem      = "unknown_item"
	ReasonCurrencyMismatch = "currency_mismatch"
	ReasonCancelled        = "cancelled" // the release came first
	ReasonExpired          = "expired"   // the saga's deadline had passed
)

// Line is a quantity of one item.
type Line struct {
	ItemID   string `json:"item_id"`
	Quantity int64  `json:"quantity"`
}

// Reserve asks for all lines of an order, or none.
type Reserve struct {
	OrderID string `json:"order_id"`
	Lines   []Line `json:"lines"`
	// Deadline is when the saga times out (RFC 3339): a reserve that
	// arrives later is refused as expired and changes nothing. Zero when
	// the sender set none.
	Deadline time.Time `json:"deadline,omitzero"`
}

// Release gives back what Reserve took for the order, or records a
// tombstone when nothing was reserved yet.
type Release struct {
	OrderID string `json:"order_id"`
}

// Reserved acknowledges a reservation.
type Reserved struct {
	OrderID string `json:"order_id"`
	Lines   []Line `json:"lines"`
}

// Released acknowledges a release.
type Released struct {
	OrderID string `json:"order_id"`
}

// Rejected says a reservation was refused and nothing was reserved; every
// participant refuses with the same data (reply.Rejected).
type Rejected = reply.Rejected

// ItemUpdated is the catalog snapshot of one item.
type ItemUpdated struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	PriceCents int64  `json:"price_cents"`
	Currency   string `json:"currency"`
	Available  int64  `json:"available"`
}
