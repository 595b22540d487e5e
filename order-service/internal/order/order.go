// Package order is the purchase saga's state: an order, its two steps
// (stock and payment) and the state machine that applies the participants'
// replies and the timeout, deciding what to compensate (SPEC section 6).
// It imports no adapter; the saga package persists it and sends what it
// decides.
package order

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Status is an order's status.
type Status string

// Order statuses. COMPLETED and FAILED are terminal.
const (
	Pending   Status = "PENDING"
	Completed Status = "COMPLETED"
	Failed    Status = "FAILED"
)

// StepStatus is a step's status.
type StepStatus string

// Step statuses.
const (
	StepPending      StepStatus = "PENDING"
	StepSucceeded    StepStatus = "SUCCEEDED"
	StepFailed       StepStatus = "FAILED"
	StepCompensating StepStatus = "COMPENSATING"
	StepCompensated  StepStatus = "COMPENSATED"
)

// StepName names one of the two steps.
type StepName string

// The saga's steps.
const (
	Stock   StepName = "stock"
	Payment StepName = "payment"
)

// ReasonTimeout is the failure reason of an order that timed out.
const ReasonTimeout = "timeout"

// Errors reported by the domain.
var (
	ErrNotFound       = errors.New("order not found")
	ErrInvalid        = errors.New("invalid order")
	ErrIdempotencyKey = errors.New("idempotency key reused with another request")
)

// Line is one priced line of an order.
type Line struct {
	ItemID         string `json:"item_id"`
	Quantity       int64  `json:"quantity"`
	UnitPriceCents int64  `json:"unit_price_cents"`
}

// Step is the state of one step.
type Step struct {
	Status    StepStatus `json:"status"`
	Reason    string     `json:"reason"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// Order is the saga's persisted state.
type Order struct {
	ID            string    `json:"id"`
	CustomerID    string    `json:"customer_id"`
	Lines         []Line    `json:"lines"`
	AmountCents   int64     `json:"amount_cents"`
	Currency      string    `json:"currency"`
	Status        Status    `json:"status"`
	FailureReason string    `json:"failure_reason"`
	Steps         Steps     `json:"steps"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	// Deadline is when a still-pending order times out.
	Deadline time.Time `json:"-"`
}

// Steps holds both steps.
type Steps struct {
	Stock   Step `json:"stock"`
	Payment Step `json:"payment"`
}

// New returns a pending order with both steps pending. Its amount is the
// Total of lines; an amount that would overflow is a *ValidationError.
func New(id, customerID string, lines []Line, currency string, now time.Time, timeout time.Duration) (Order, error) {
	amount, err := Total(lines)
	if err != nil {
		return Order{}, err
	}
	pending := Step{Status: StepPending, UpdatedAt: now}
	return Order{
		ID: id, CustomerID: customerID, Lines: lines, AmountCents: amount, Currency: currency,
		Status: Pending, Steps: Steps{Stock: pending, Payment: pending},
		CreatedAt: now, UpdatedAt: now, Deadline: now.Add(timeout),
	}, nil
}

// Terminal reports whether the order has completed or failed.
func (o *Order) Terminal() bool {
	return o.Status == Completed || o.Status == Failed
}

func (o *Order) step(name StepName) *Step {
	if name == Stock {
		return &o.Steps.Stock
	}
	return &o.Steps.Payment
}

// ValidationError lists what is wrong with a request; it matches ErrInvalid.
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid order: %s", strings.Join(e.Problems, "; "))
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }
