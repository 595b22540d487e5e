// Package saga orchestrates the purchase: it places orders (the order row
// and the first commands in one transaction), applies the participants'
// replies to the persisted state machine of package order, sends the
// compensations and lifecycle events that decides, fails orders that time
// out, and keeps the catalog read model.
package saga

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/purchase-saga/contract/ordermsg"
	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/outbox"
	mpostgres "github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/order-service/internal/admission"
	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
)

// TerminalChannel is notified when an order becomes terminal, so that long
// polls on any instance wake up: the payload is the order's id, then a
// space and the instance where it ended (Waiter.Origin) when known.
const TerminalChannel = postgres.EndedChannel

// Saga is the orchestrator.
type Saga struct {
	// Store is orderdb: every read and every transaction goes through it.
	Store    *postgres.Store
	Currency string
	Timeout  time.Duration
	Log      *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Admission, when set, decides whether a new order may start a saga
	// (SPEC section 12) and learns from the sagas that end.
	Admission *admission.Controller
	// Gate, when set, refuses from memory the orders the catalog cannot
	// serve, before anything else is done.
	Gate *Gate
	// Waiter, when set, is handed the orders that end here, for the long
	// polls waiting on them.
	Waiter *Waiter
	// Steps is the step table the sagas run (see Steps.Validate);
	// DefaultSteps when nil. Orders keep the steps they were placed with.
	Steps Steps
	// committer group-commits new orders; lookups looks up the
	// idempotency keys of new requests together.
	committer grouper[*placement]
	lookups   grouper[*keyLookup]
	// routes are the consumer's handlers, built from the step table once
	// (see Handle).
	routesOnce sync.Once
	routes     routes
}

// InFlight counts the sagas in flight of the whole deployment, for the
// admission controller.
func (s *Saga) InFlight(ctx context.Context) (admission.InFlight, error) {
	n, oldest, err := s.Store.Orders().InFlight(ctx, s.Timeout)
	return admission.InFlight{Count: n, OldestAge: oldest}, err
}

// defaultSteps is the table of a Saga built without Steps.
var defaultSteps = DefaultSteps()

func (s *Saga) steps() Steps {
	if s.Steps != nil {
		return s.Steps
	}
	return defaultSteps
}

func (s *Saga) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	// As PostgreSQL stores it, so that an order in memory is the order read.
	return time.Now().UTC().Truncate(time.Microsecond)
}

// save persists o after a decision with what the decision sends:
// compensations, the lifecycle event and the wake-up of long polls (see
// postgres.OrdersTx.Save for when they are written).
func (s *Saga) save(ctx context.Context, tx *postgres.Tx, o order.Order, d order.Decision) error {
	if !d.Changed {
		return nil
	}
	var records []outbox.Record
	for _, step := range d.Compensate {
		r, err := s.steps().compensation(o, step)
		if err != nil {
			return err
		}
		records = append(records, r)
	}
	countSent(ctx, d.Compensate)
	if d.Ended {
		r, err := lifecycle(o)
		if err != nil {
			return err
		}
		records = append(records, r)
		mpostgres.AfterCommit(ctx, func() { s.ended(o) })
	}
	return tx.Orders.Save(ctx, postgres.Change{Order: o, Records: records, Ended: d.Ended, Origin: s.Waiter.Origin()})
}

func lifecycle(o order.Order) (outbox.Record, error) {
	typ := ordermsg.TypePlaced
	switch o.Status {
	case order.Completed:
		typ = ordermsg.TypeCompleted
	case order.Failed:
		typ = ordermsg.TypeFailed
	}
	return outbox.NewRecord(topic.Orders, typ, o.ID, ordermsg.Event{
		OrderID: o.ID, CustomerID: o.CustomerID, AmountCents: o.AmountCents, Currency: o.Currency,
		Status: string(o.Status), FailureReason: o.FailureReason,
	})
}
