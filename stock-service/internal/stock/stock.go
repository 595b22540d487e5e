// Package stock is the stock domain: items with a price and units on hand,
// reservations that hold units for an order, and the rules that decide
// whether all of an order's lines can be reserved. It knows nothing of
// HTTP, Kafka or SQL; the adapters call it and translate its errors.
package stock

import "errors"

// Sentinel errors, mapped once at the edges (404 and 422 over HTTP).
var (
	// ErrNotFound is returned for an item that does not exist.
	ErrNotFound = errors.New("item not found")
	// ErrInvalid is wrapped by every validation failure.
	ErrInvalid = errors.New("invalid")
)
