package saga

import (
	"context"

	"github.com/jackc/pgx/v5"

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
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			now := s.now()
			due, err := postgres.LockTimedOut(ctx, tx, now, sweepBatch)
			if err != nil {
				return err
			}
			n = len(due)
			for _, o := range due {
				if err := s.save(ctx, tx, o, o.Timeout(now)); err != nil {
					return err
				}
			}
			return nil
		})
		total += n
		if err != nil || n < sweepBatch {
			return total, err
		}
	}
}
