package servicetest

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/postgres"
)

// ApplyBatch applies ds in one transaction on pool as a consumer does,
// without its inbox: lock (when set) with the whole batch, handle for
// each message, the functions registered to run before the commit, the
// commit, then those registered to run after it.
func ApplyBatch(pool *pgxpool.Pool, lock func(context.Context, pgx.Tx, []consumer.Delivery) error,
	handle consumer.Handler, ds ...consumer.Delivery) error {
	ctx := context.Background()
	hctx, hooks := postgres.WithTxHooks(ctx)
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if lock != nil {
			if err := lock(hctx, tx, ds); err != nil {
				return err
			}
		}
		for _, d := range ds {
			if err := handle(hctx, tx, d); err != nil {
				return fmt.Errorf("%s of %s: %w", d.Message.Type, d.Key, err)
			}
		}
		return hooks.BeforeCommit(hctx)
	})
	if err != nil {
		return fmt.Errorf("batch of %d: %w", len(ds), err)
	}
	hooks.Committed()
	return nil
}
