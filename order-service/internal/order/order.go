// Package order is the purchase saga's state: an order, its steps (one
// per participant, named by the saga's step table: stock and payment) and
// the state machine that applies the participants' replies and the
// timeout, deciding what to compensate (SPEC section 6). It knows no step
// by name, so that a step is added to the table without touching it; it
// imports no adapter; the saga package persists it and sends what it
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

// StepName names a step of the saga ("stock", "payment").
type StepName string

// ReasonTimeout is the failure reason of an order that timed out.
const ReasonTimeout = "timeout"

// Errors reported by the domain.
var (
	ErrNotFound       = errors.New("order not found")
	ErrInvalid        = errors.New("invalid order")
	ErrIdempotencyKey = errors.New("idempotency key reused with another request")
	// ErrUnknownStep: a reply or compensation names a step the order does
	// not have. It is never taken for another step.
	ErrUnknownStep = errors.New("unknown step")
)

// Line is one priced line of an order.
type Line struct {
	ItemID         string `json:"item_id"`
	Quantity       int64  `json:"quantity"`
	UnitPriceCents int64  `json:"unit_price_cents"`
}

// Step is the state of one step.
type Step struct {
	// Name keys the step in Steps (and in the JSON object Steps is).
	Name      StepName   `json:"-"`
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
	// Traceparent is the trace the order was placed in (W3C traceparent),
	// which what the timeout sweep writes for it continues.
	Traceparent string `json:"-"`
}

// New returns a pending order with the named steps pending, in that
// order. Its amount is the Total of lines; an amount that would overflow
// is a *ValidationError. An order needs at least one step, each named
// once.
func New(id, customerID string, lines []Line, currency string, steps []StepName, now time.Time, timeout time.Duration) (Order, error) {
	amount, err := Total(lines)
	if err != nil {
		return Order{}, err
	}
	if len(steps) == 0 {
		return Order{}, errors.New("order: no steps")
	}
	states := make(Steps, 0, len(steps))
	for _, name := range steps {
		if _, ok := states.Get(name); ok || name == "" {
			return Order{}, fmt.Errorf("order: step %q named twice or empty", name)
		}
		states = append(states, Step{Name: name, Status: StepPending, UpdatedAt: now})
	}
	return Order{
		ID: id, CustomerID: customerID, Lines: lines, AmountCents: amount, Currency: currency,
		Status: Pending, Steps: states,
		CreatedAt: now, UpdatedAt: now, Deadline: now.Add(timeout),
	}, nil
}

// Terminal reports whether the order has completed or failed.
func (o *Order) Terminal() bool {
	return o.Status == Completed || o.Status == Failed
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
