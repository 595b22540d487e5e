// Package saga orchestrates the purchase: it places orders (the order row
// and the first commands in one transaction), applies the participants'
// replies to the persisted state machine of package order, sends the
// compensations and lifecycle events that decides, fails orders that time
// out, and keeps the catalog read model.
package saga

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

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
const TerminalChannel = "order_terminal"

// Saga is the orchestrator.
type Saga struct {
	Pool     *pgxpool.Pool
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
}

// InFlight counts the sagas in flight of the whole deployment, for the
// admission controller.
func (s *Saga) InFlight(ctx context.Context) (admission.InFlight, error) {
	n, oldest, err := postgres.InFlight(ctx, s.Pool, s.Timeout)
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

// save persists o after a decision and writes what the decision requires:
// compensations, the lifecycle event and the wake-up of long polls. In a
// transaction with hooks (a batch of replies, a sweep) the changes of all
// its orders go to PostgreSQL together just before the commit (see
// changes); otherwise in one round trip now.
func (s *Saga) save(ctx context.Context, tx pgx.Tx, o order.Order, d order.Decision) error {
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
	if d.Ended {
		r, err := lifecycle(o)
		if err != nil {
			return err
		}
		records = append(records, r)
		mpostgres.AfterCommit(ctx, func() { s.ended(o) })
	}
	if c := changesOf(ctx, tx, s.Waiter.Origin()); c != nil {
		c.add(o, d.Ended)
		return outbox.Write(ctx, tx, records...)
	}
	c := &changes{origin: s.Waiter.Origin()}
	c.add(o, d.Ended)
	batch, err := c.queue()
	if err != nil {
		return err
	}
	if err := outbox.Queue(ctx, batch, records...); err != nil {
		return err
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("saga: save order %s: %w", o.ID, err)
	}
	return nil
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

// inTx runs fn in a transaction and commits it, reporting the commit's own
// error.
func (s *Saga) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("saga: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit it is a no-op
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("saga: commit: %w", err)
	}
	return nil
}
