package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/inbox"
	"github.com/purchase-saga/messaging/postgres"
)

// errLock marks a failure of the configured Lock.
var errLock = errors.New("lock batch")

// apply runs one transaction: the inbox records of the batch, then the
// handler's effects for each message the inbox had not seen.
func (c *Consumer) apply(ctx context.Context, ds []Delivery) (err error) {
	tx, err := c.cfg.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	ids, topics := make([]uuid.UUID, len(ds)), make([]string, len(ds))
	for i, d := range ds {
		ids[i], topics[i] = d.Message.ID, d.Topic
	}
	// The inbox claim goes first, in the round trip of the batch's locks
	// when the configured Lock takes it (postgres.TakePrelude), alone
	// otherwise; Lock therefore locks for every message, duplicates too.
	hctx, hooks := postgres.WithTxHooks(ctx)
	debug := c.log.Enabled(ctx, slog.LevelDebug)
	var duplicate []bool
	if debug {
		hctx = withLogger(hctx, c.log)
		duplicate = make([]bool, len(ds))
	}
	var fresh map[uuid.UUID]bool
	postgres.SetPrelude(hctx, func(b *pgx.Batch) func(pgx.BatchResults) error {
		claimed, read := inbox.QueueClaim(b, ids, topics)
		fresh = claimed
		return read
	})
	if err := c.lock(hctx, tx, ds); err != nil {
		return err
	}
	if err := hooks.SendPrelude(ctx, tx); err != nil {
		return err
	}
	for i, d := range ds {
		if !fresh[d.Message.ID] {
			postgres.AfterCommit(hctx, duplicates.WithLabelValues(d.Topic).Inc) // counted if this attempt commits
			if debug {
				duplicate[i] = true
			}
			continue
		}
		delete(fresh, d.Message.ID) // a second copy in the same batch is a duplicate too
		if err := c.handler(hctx, tx, d); err != nil {
			if postgres.IsTransient(err) {
				return err
			}
			return &messageError{index: i, err: err}
		}
	}
	if err := hooks.BeforeCommit(hctx); err != nil {
		return fmt.Errorf("before commit: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	hooks.Committed()
	if debug {
		c.logApplied(ctx, ds, duplicate)
	}
	return nil
}

// logApplied says at debug what became of each message of a committed
// batch: applied, or skipped as a duplicate the inbox had seen.
func (c *Consumer) logApplied(ctx context.Context, ds []Delivery, duplicate []bool) {
	for i, d := range ds {
		msg := "message applied"
		if duplicate[i] {
			msg = "message skipped: duplicate"
		}
		c.logFor(d).DebugContext(ctx, msg, "type", d.Message.Type, "batch", len(ds))
	}
}

// lock runs the configured Lock over the messages of ds.
func (c *Consumer) lock(ctx context.Context, tx pgx.Tx, ds []Delivery) error {
	if c.cfg.Lock == nil {
		return nil
	}
	if err := c.cfg.Lock(ctx, tx, ds); err != nil {
		return fmt.Errorf("%w: %w", errLock, err)
	}
	return nil
}
