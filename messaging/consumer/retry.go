package consumer

import (
	"context"
	"errors"

	"github.com/purchase-saga/messaging/dlt"
	"github.com/purchase-saga/messaging/postgres"
)

// errStopped ends a batch without committing because the consumer stops.
var errStopped = errors.New("consumer stopping")

// splitAfter is how many conflicts a batch suffers before it is split.
const splitAfter = 2

// applyRetrying applies ds in one transaction, retrying until it commits
// or stop ends: a failure tied to one message is returned at once, as a
// *messageError naming it, and every other failure (the database
// unreachable, a deadlock, a statement timeout, a full disk) is retried
// with backoff, the batch split when it keeps failing, so that the
// consumer never moves past a message it has not settled.
func (c *Consumer) applyRetrying(stop, work context.Context, ds []Delivery) error {
	defer c.health.recovered(ds[0].Topic, ds[0].Partition)
	for attempt := 1; ; attempt++ {
		err := c.apply(work, ds)
		var bad *messageError
		if err == nil || errors.As(err, &bad) {
			return err
		}
		if postgres.IsConflict(err) {
			conflicts.WithLabelValues(ds[0].Topic, postgres.Code(err)).Inc()
		}
		if len(ds) > 1 && attempt >= splitAfter && !postgres.IsUnavailable(err) {
			// A conflict, or a failure of the batch as a whole (a
			// statement timeout, say): less work per transaction helps.
			return errSplit
		}
		if len(ds) == 1 && (postgres.IsDataError(err) || errors.Is(err, errLock) && !postgres.IsTransient(err)) {
			// A deferred constraint or a bad value refused at commit, or
			// the locks of this message alone failing as its handler
			// would: this message's own failure, retried up to
			// MaxAttempts and then dead-lettered.
			return &messageError{index: 0, err: err}
		}
		c.health.failing(ds[0].Topic, ds[0].Partition, err)
		c.logFor(ds[0]).Warn("batch failed, retrying", "batch", len(ds), "attempt", attempt, "err", err)
		retries.WithLabelValues(ds[0].Topic).Inc()
		if c.cfg.Backoff.Sleep(stop, attempt) != nil {
			return errStopped
		}
	}
}

// settle handles a message whose first attempt failed with err.
func (c *Consumer) settle(stop, work context.Context, d Delivery, err error) error {
	for failures := 1; ; failures++ {
		if isPoison(err) {
			return c.deadLetter(stop, work, d, dlt.ReasonPoison, err, failures)
		}
		c.logFor(d).Warn("message failed", "attempt", failures, "max_attempts", c.cfg.MaxAttempts, "err", err)
		if failures >= c.cfg.MaxAttempts {
			return c.deadLetter(stop, work, d, dlt.ReasonError, err, failures)
		}
		retries.WithLabelValues(d.Topic).Inc()
		if c.cfg.Backoff.Sleep(stop, failures) != nil {
			return errStopped
		}
		if err = c.applyRetrying(stop, work, []Delivery{d}); err == nil || errors.Is(err, errStopped) {
			return err
		}
	}
}
