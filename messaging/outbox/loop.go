package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/retry"
)

// publishLoop relays batches back to back while rows are ready, then waits
// for a notification or the poll interval; after the broker failed some
// rows it waits a growing backoff instead.
func (r *Relay) publishLoop(ctx context.Context, l *lease) error {
	defer r.recordOnLeaving(l)
	var lastPass time.Time
	for ctx.Err() == nil {
		// Under load notifications come faster than passes are worth
		// making: wait out the rest of minPass since the last one, so
		// that each pass publishes (and records, and commits) more rows.
		if wait := minPass - time.Since(lastPass); wait > 0 && retry.Wait(ctx, wait) != nil {
			return nil
		}
		lastPass = time.Now()
		res, err := r.relayBatch(ctx, l)
		if err != nil {
			return err
		}
		wait := r.cfg.PollInterval
		if res.retry {
			// The broker failed some rows for a passing reason: try them
			// again soon, without hammering it.
			r.lastErr.Store("the broker fails some rows; retrying")
			r.failures++
			wait = retry.Default.Delay(r.failures)
		} else {
			r.healthy()
			r.failures = 0
			if res.read == r.cfg.BatchSize {
				continue
			}
		}
		if err := r.idle(ctx, l, wait); err != nil {
			return err
		}
	}
	return nil
}

// idle waits for a notification for up to wait, storing the position once
// its record interval is up if it moved meanwhile.
func (r *Relay) idle(ctx context.Context, l *lease, wait time.Duration) error {
	if r.position != r.recorded {
		due := r.cfg.RecordInterval - time.Since(r.recordedAt)
		if due >= wait {
			_, err := waitNotification(ctx, l.conn, wait)
			return err
		}
		if due > 0 {
			woken, err := waitNotification(ctx, l.conn, due)
			if err != nil || woken {
				return err
			}
			wait -= due
		}
		if err := r.record(ctx, l, nil); err != nil {
			return err
		}
	}
	_, err := waitNotification(ctx, l.conn, wait)
	return err
}

// recordOnLeaving stores the position as a leader steps down, when it
// still can, so that a clean stop leaves nothing to publish again.
func (r *Relay) recordOnLeaving(l *lease) {
	if r.position == r.recorded {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := r.record(ctx, l, nil); err != nil {
		r.cfg.Logger.Debug("relay position not stored on leaving", "component", "outbox-relay", "err", err)
	}
}

// minPass is the least time between two passes of the relay: at a few
// rows a second every row goes out at once, under load rows gather for
// up to this long.
const minPass = 2 * time.Millisecond

// waitNotification waits up to d for a notification and reports whether
// one came.
func waitNotification(ctx context.Context, conn *pgx.Conn, d time.Duration) (bool, error) {
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	_, err := conn.WaitForNotification(wctx)
	if err != nil && wctx.Err() != nil {
		return false, nil // timed out or cancelled: both end the wait normally
	}
	if err != nil {
		return false, fmt.Errorf("wait for notification: %w", err)
	}
	return true, nil
}
