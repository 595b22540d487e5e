// Package ordermsg is order-service's part of the contract: the order
// lifecycle events on the orders topic.
package ordermsg

// Event types on topic orders.
const (
	TypePlaced    = "order.placed"
	TypeCompleted = "order.completed"
	TypeFailed    = "order.failed"
)

// Event is the data of every order lifecycle event.
type Event struct {
	OrderID       string `json:"order_id"`
	CustomerID    string `json:"customer_id"`
	AmountCents   int64  `json:"amount_cents"`
	Currency      string `json:"currency"`
	Status        string `json:"status"`
	FailureReason string `json:"failure_reason,omitempty"`
}
