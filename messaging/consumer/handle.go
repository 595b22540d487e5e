package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/dlt"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/inbox"
	"github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/messaging/trace"
)

// errStopped ends a batch without committing because the consumer stops.
var errStopped = errors.New("consumer stopping")

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
	if len(ds) > 0 {
		err := c.applyRetrying(stop, work, ds)
		if err != nil && !errors.Is(err, errStopped) {
			err = c.applyEach(stop, work, ds)
		}
		if err != nil {
			return err
		}
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

// applyRetrying applies ds in one transaction, retrying transient failures
// until they pass or stop ends. Other errors are returned at once.
func (c *Consumer) applyRetrying(stop, work context.Context, ds []Delivery) error {
	for attempt := 1; ; attempt++ {
		err := c.apply(work, ds)
		if err == nil || !postgres.IsTransient(err) {
			return err
		}
		c.logFor(ds[0]).Warn("transient failure, retrying", "batch", len(ds), "attempt", attempt, "err", err)
		retries.WithLabelValues(ds[0].Topic).Inc()
		if c.cfg.Backoff.Sleep(stop, attempt) != nil {
			return errStopped
		}
	}
}

// applyEach applies ds one at a time: poison goes to the dead letters at
// once, other failures after MaxAttempts, transient ones are retried.
func (c *Consumer) applyEach(stop, work context.Context, ds []Delivery) error {
	for _, d := range ds {
		if err := c.applyOne(stop, work, d); err != nil {
			return err
		}
	}
	return nil
}

func (c *Consumer) applyOne(stop, work context.Context, d Delivery) error {
	failures := 0
	for attempt := 1; ; attempt++ {
		err := c.applyRetrying(stop, work, []Delivery{d})
		switch {
		case err == nil:
			return nil
		case errors.Is(err, errStopped):
			return err
		case isPoison(err):
			return c.deadLetter(stop, work, d, dlt.ReasonPoison, err, attempt)
		}
		failures++
		c.logFor(d).Warn("message failed", "attempt", failures, "max_attempts", c.cfg.MaxAttempts, "err", err)
		if failures >= c.cfg.MaxAttempts {
			return c.deadLetter(stop, work, d, dlt.ReasonError, err, failures)
		}
		retries.WithLabelValues(d.Topic).Inc()
		if c.cfg.Backoff.Sleep(stop, failures) != nil {
			return errStopped
		}
	}
}

func isPoison(err error) bool {
	return errors.Is(err, ErrPoison) || errors.Is(err, envelope.ErrInvalid)
}

// apply runs one transaction: for each message not yet in the inbox, the
// inbox record and the handler's effects.
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
	for _, d := range ds {
		if err := c.applyIn(ctx, tx, d); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (c *Consumer) applyIn(ctx context.Context, tx pgx.Tx, d Delivery) error {
	fresh, err := inbox.Claim(ctx, tx, d.Message.ID, d.Topic)
	if err != nil {
		return err
	}
	if !fresh {
		duplicates.WithLabelValues(d.Topic).Inc()
		return nil
	}
	hctx := trace.Continue(ctx, d.Headers[envelope.HeaderTraceparent])
	if err := c.cfg.Handler(hctx, tx, d); err != nil {
		return fmt.Errorf("handle %s %s: %w", d.Message.Type, d.Message.ID, err)
	}
	return nil
}

// deadLetter publishes d's record to its dead-letter topic, retrying until
// the broker takes it or stop ends.
func (c *Consumer) deadLetter(stop, work context.Context, d Delivery, reason string, cause error, attempts int) error {
	topic := c.cfg.DeadLetterTopic(d.Topic)
	rec := dlt.Record(topic, d.Raw, dlt.Failure{
		Reason: reason, Err: cause.Error(), Attempts: attempts, Service: c.cfg.Service, At: time.Now(),
		Origin: d.Origin(),
	})
	c.logFor(d).Error("dead-lettering message", "dlt_topic", topic, "reason", reason, "err", cause)
	for attempt := 1; ; attempt++ {
		err := c.cfg.DeadLetters.WriteMessages(work, rec)
		if err == nil {
			deadLettered.WithLabelValues(d.Topic, reason).Inc()
			return nil
		}
		c.logFor(d).Warn("dead-letter publish failed, retrying", "attempt", attempt, "err", err)
		if c.cfg.Backoff.Sleep(stop, attempt) != nil {
			return errStopped
		}
	}
}

func (c *Consumer) logFor(d Delivery) *slog.Logger {
	return c.log.With("topic", d.Topic, "partition", d.Partition, "offset", d.Offset,
		"message_id", d.Headers[envelope.HeaderMessageID], "saga_id", d.Message.SagaID)
}
