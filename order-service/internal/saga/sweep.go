package saga

import (
	"context"

	mpostgres "github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/messaging/trace"

	"github.com/purchase-saga/order-service/internal/postgres"
)

// sweepBatch bounds the orders one sweep transaction fails.
const sweepBatch = 200

// Sweep fails the pending orders whose deadline has passed and returns how
// many. Several instances may sweep at once: each locks the orders it
// takes and skips those locked by another.
func (s *Saga) Sweep(ctx context.Context) (int, error) {
	total := 0
	for {
		n := 0
		// The orders failed count once the transaction commits.
		txCtx, hooks := mpostgres.WithTxHooks(ctx)
		err := s.Store.InTx(txCtx, func(tx *postgres.Tx) error {
			now := s.now()
			due, err := tx.Orders.LockTimedOut(txCtx, now, sweepBatch)
			if err != nil {
				return err
			}
			n = len(due)
			for _, o := range due {
				// What it writes for the order continues the order's trace.
				if err := s.save(trace.Extract(txCtx, o.Traceparent), tx, o, o.Timeout(now)); err != nil {
					return err
				}
			}
			return hooks.BeforeCommit(txCtx)
		})
		if err != nil {
			return total, err
		}
		hooks.Committed()
		total += n
		if n < sweepBatch {
			return total, nil
		}
	}
}
