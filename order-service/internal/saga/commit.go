package saga

import (
	"context"
	"errors"

	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/outbox"
	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
)

// placement is one order to write and, once its group is done, its outcome:
// nil when it was written, postgres.ErrDuplicateKey when its idempotency
// key was taken, or the error that failed it. New orders are
// group-committed (see grouper): one transaction and one commit for all
// the orders placed meanwhile, as PostgreSQL's own WAL writer flushes many
// commits at once; an idempotency key taken by another order leaves that
// order out without failing its neighbours.
type placement struct {
	order   postgres.NewOrder
	records []outbox.Record
	err     error
}

func (pl *placement) fail(err error) { pl.err = err }
func (pl *placement) outcome() error { return pl.err }

// writeGroup inserts the orders of items in one transaction with the
// messages of those it inserted, marking the others ErrDuplicateKey. It
// first sends the orders and all their messages in one round trip; should
// an idempotency key turn out to be taken (a rare race: keys are looked
// up before), that transaction is rolled back and the group written
// again, the orders first and then the messages of those inserted.
func (s *Saga) writeGroup(ctx context.Context, items []*placement) error {
	orders := make([]postgres.NewOrder, len(items))
	var records []outbox.Record
	for i, pl := range items {
		orders[i] = pl.order
		records = append(records, pl.records...)
	}
	err := s.Store.InTx(ctx, func(tx *postgres.Tx) error {
		inserted, err := tx.Orders.Insert(ctx, orders, records...)
		if err != nil {
			return err
		}
		if len(inserted) < len(orders) {
			return errKeyTaken
		}
		for _, pl := range items {
			pl.err = nil
		}
		return nil
	})
	if !errors.Is(err, errKeyTaken) {
		return err
	}
	return s.Store.InTx(ctx, func(tx *postgres.Tx) error {
		inserted, err := tx.Orders.Insert(ctx, orders)
		if err != nil {
			return err
		}
		records = records[:0]
		for _, pl := range items {
			pl.err = nil
			if !inserted[pl.order.Order.ID] {
				pl.err = postgres.ErrDuplicateKey
				continue
			}
			records = append(records, pl.records...)
		}
		return tx.Outbox.Write(ctx, records...)
	})
}

// errKeyTaken rolls back a group written in one round trip in which an
// order's idempotency key was taken.
var errKeyTaken = errors.New("saga: an idempotency key of the group is taken")

// commitOrder writes o with its first messages, group-committed with the
// orders placed at the same time.
func (s *Saga) commitOrder(ctx context.Context, o order.Order, key, hash string) error {
	records, err := s.firstMessages(o)
	if err != nil {
		return err
	}
	// The group's transaction runs on its leader's context: each order's
	// messages keep the trace of the request that placed it.
	outbox.Stamp(ctx, records)
	if len(records) > 0 {
		o.Traceparent = records[0].Headers[envelope.HeaderTraceparent]
	}
	pl := &placement{order: postgres.NewOrder{Order: o, IdempotencyKey: key, RequestHash: hash}, records: records}
	return s.committer.do(ctx, s.writeGroup, pl)
}
