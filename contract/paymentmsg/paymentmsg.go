// Package paymentmsg is payment-service's part of the contract: the commands
// it accepts and the replies it emits, as they travel in the envelope's
// data. Other services import it; it imports nothing of payment.
package paymentmsg

import (
	"time"

	"github.com/purchase-saga/contract/reply"
)

// Message types.
const (
	TypeCharge   = "payment.charge"   // on topic payment
	TypeRefund   = "payment.refund"   // on topic payment.compensation
	TypeCharged  = "payment.charged"  // on topic payment.success
	TypeRefunded = "payment.refunded" // on topic payment.success
	TypeRejected = "payment.rejected" // on topic payment.dlt, dlt-reason rejected
)

// Rejection reasons, in Rejected.Reason.
const (
	ReasonInsufficientFunds = "insufficient_funds"
	ReasonUnknownAccount    = "unknown_account"
	ReasonCurrencyMismatch  = "currency_mismatch"
	ReasonCancelled         = "cancelled" // the refund came first
	ReasonExpired           = "expired"   // the saga's deadline had passed
)

// Charge takes amount from the customer's account.
type Charge struct {
	OrderID     string `json:"order_id"`
	CustomerID  string `json:"customer_id"`
	AmountCents int64  `json:"amount_cents"`
	Currency    string `json:"currency"`
	// Deadline is when the saga times out (RFC 3339): a charge that
	// arrives later is refused as expired and changes nothing. Zero when
	// the sender set none.
	Deadline time.Time `json:"deadline,omitzero"`
}

// Refund gives back what Charge took for the order, or records a tombstone
// when nothing was charged yet.
type Refund struct {
	OrderID string `json:"order_id"`
}

// Charged acknowledges a charge.
type Charged struct {
	OrderID     string `json:"order_id"`
	AmountCents int64  `json:"amount_cents"`
}

// Refunded acknowledges a refund.
type Refunded struct {
	OrderID     string `json:"order_id"`
	AmountCents int64  `json:"amount_cents"`
}

// Rejected says a charge was refused and nothing was taken; every
// participant refuses with the same data (reply.Rejected).
type Rejected = reply.Rejected
