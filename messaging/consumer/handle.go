package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/dlt"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/inbox"
	"github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/messaging/trace"
)

// errStopped ends a batch without committing because the consumer stops.
var errStopped = errors.New("consumer stopping")

// errSplit says a batch keeps losing races (deadlocks, serialization
// failures) with concurrent batches: it is applied one message at a time.
var errSplit = errors.New("batch keeps conflicting")

// errLock marks a failure of the configured Lock.
var errLock = errors.New("lock batch")

// splitAfter is how many conflicts a batch suffers before it is split.
const splitAfter = 2

// handleBatch applies batch and commits its offsets. Retries wait on stop;
// database work runs on work, which outlives stop by the drain timeout. It
// returns an error only when it gave up because the consumer is stopping.
func (c *Consumer) handleBatch(stop, work context.Context, batch []kafka.Message) error {
	var ds []Delivery
	for _, m := range batch {
		d, err := decode(m)
		if err != nil {
			if err := c.deadLetter(stop, work, d, dlt.ReasonPoison, err, 1); err != nil {
				return err
			}
			continue
		}
		ds = append(ds, d)
	}
	if err := c.applyAll(stop, work, ds); err != nil {
		return err
	}
	if err := c.cfg.Reader.CommitMessages(work, batch...); err != nil {
		return fmt.Errorf("commit offsets: %w", err)
	}
	consumed.WithLabelValues(batch[0].Topic).Add(float64(len(batch)))
	return nil
}

func decode(m kafka.Message) (Delivery, error) {
	d := Delivery{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Key: string(m.Key), Raw: m,
		Headers: make(map[string]string, len(m.Headers))}
	for _, h := range m.Headers {
		d.Headers[h.Key] = string(h.Value)
	}
	msg, err := envelope.Decode(m.Value)
	if err != nil {
		return d, err
	}
	d.Message = msg
	return d, nil
}

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

// messageError says which message of a batch failed.
type messageError struct {
	index int
	err   error
}

func (e *messageError) Error() string { return e.err.Error() }
func (e *messageError) Unwrap() error { return e.err }

// applyAll applies ds in as few transactions as it can. When the batch
// fails because of one message, the messages before it are applied
// without it, the failing one is settled on its own (dead-lettered at once
// if it is poison, retried up to MaxAttempts otherwise) and the rest go on
// as a batch: one bad message neither blocks nor poisons its neighbours.
func (c *Consumer) applyAll(stop, work context.Context, ds []Delivery) error {
	for len(ds) > 0 {
		err := c.applyRetrying(stop, work, ds)
		if err == nil {
			return nil
		}
		if errors.Is(err, errSplit) {
			for _, d := range ds {
				if err := c.applyAll(stop, work, []Delivery{d}); err != nil {
					return err
				}
			}
			return nil
		}
		var bad *messageError
		if !errors.As(err, &bad) {
			return err // stopping
		}
		if bad.index > 0 {
			if err := c.applyAll(stop, work, ds[:bad.index]); err != nil {
				return err
			}
		}
		if err := c.settle(stop, work, ds[bad.index], bad.err); err != nil {
			return err
		}
		ds = ds[bad.index+1:]
	}
	return nil
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

func isPoison(err error) bool {
	return errors.Is(err, ErrPoison) || errors.Is(err, envelope.ErrInvalid)
}

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
			continue
		}
		delete(fresh, d.Message.ID) // a second copy in the same batch is a duplicate too
		if err := c.applyIn(hctx, tx, d); err != nil {
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
	return nil
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

func (c *Consumer) applyIn(ctx context.Context, tx pgx.Tx, d Delivery) (err error) {
	defer func() {
		if p := recover(); p != nil {
			c.logFor(d).Error("handler panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = Poison(fmt.Errorf("handler panicked: %v", p))
		}
	}()
	hctx := trace.Continue(ctx, d.Headers[envelope.HeaderTraceparent])
	if err := c.cfg.Handler(hctx, tx, d); err != nil {
		return fmt.Errorf("handle %s %s: %w", d.Message.Type, d.Message.ID, err)
	}
	return nil
}

// deadLetter publishes d's record to its dead-letter topic, retrying until
// the broker takes it or stop ends. A record too large for the broker is
// cut down (dlt.Fit) rather than retried for ever: the partition must move
// on, and the dead letter still says where the original is.
func (c *Consumer) deadLetter(stop, work context.Context, d Delivery, reason string, cause error, attempts int) error {
	topic := c.cfg.DeadLetterTopic(d.Topic)
	rec := dlt.Record(topic, d.Raw, dlt.Failure{
		Reason: reason, Err: cause.Error(), Attempts: attempts, Service: c.cfg.Service, At: time.Now(),
		Origin: d.Origin(),
	})
	limit := c.cfg.MaxMessageBytes
	c.logFor(d).Error("dead-lettering message", "dlt_topic", topic, "reason", reason, "err", cause)
	defer c.health.recovered(d.Topic, d.Partition)
	for attempt := 1; ; attempt++ {
		rec = dlt.Fit(rec, limit)
		err := c.cfg.DeadLetters.WriteMessages(work, rec)
		if err == nil {
			deadLettered.WithLabelValues(d.Topic, reason).Inc()
			return nil
		}
		if broker.IsRefused(err) && limit > minDeadLetterBytes {
			limit /= 2
			continue
		}
		c.health.failing(d.Topic, d.Partition, err)
		c.logFor(d).Warn("dead-letter publish failed, retrying", "attempt", attempt, "err", err)
		if c.cfg.Backoff.Sleep(stop, attempt) != nil {
			return errStopped
		}
	}
}

// minDeadLetterBytes is as far as a refused dead letter is cut down: its
// headers alone fit.
const minDeadLetterBytes = 8 << 10

func (c *Consumer) logFor(d Delivery) *slog.Logger {
	return c.log.With("topic", d.Topic, "partition", d.Partition, "offset", d.Offset,
		"message_id", d.Headers[envelope.HeaderMessageID], "saga_id", d.Message.SagaID)
}
