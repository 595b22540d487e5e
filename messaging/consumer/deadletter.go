package consumer

import (
	"context"
	"time"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/dlt"
)

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
