package consumer

import (
	"context"
	"errors"
	"fmt"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/dlt"
)

// errSplit says a batch keeps losing races (deadlocks, serialization
// failures) with concurrent batches: it is applied one message at a time.
var errSplit = errors.New("batch keeps conflicting")

// work applies batches from q. After stop ends it finishes the batch in
// hand with workCtx and drops what is queued: uncommitted, it comes again.
func (c *Consumer) work(stop, workCtx context.Context, q chan kafka.Message) {
	for first := range q {
		if stop.Err() != nil {
			continue
		}
		batch := []kafka.Message{first}
	fill:
		for len(batch) < c.cfg.BatchSize {
			select {
			case m, ok := <-q:
				if !ok {
					break fill
				}
				batch = append(batch, m)
			default:
				break fill
			}
		}
		if err := c.handleBatch(stop, workCtx, batch); err != nil {
			c.log.Warn("batch abandoned, offsets not committed", "messages", len(batch), "err", err)
		}
	}
}

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
