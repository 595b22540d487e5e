// Package payment is the payment domain: customer accounts holding money in
// the deployment's currency, charges that take an order's amount from an
// account, and refunds that give it back. It knows nothing of HTTP, Kafka
// or SQL; the adapters call it and translate its errors.
package payment

import "errors"

// Sentinel errors, mapped once at the edges (404 and 422 over HTTP).
var (
	// ErrNotFound is returned for an account that does not exist.
	ErrNotFound = errors.New("account not found")
	// ErrInvalid is wrapped by every validation failure.
	ErrInvalid = errors.New("invalid")
)
