// Package consumer runs a consumer group whose every message is applied in
// a database transaction together with its inbox record and any outbox
// rows, and whose offsets are committed only after that transaction.
//
// Messages are fetched into per-partition workers (a partition always goes
// to the same worker, so its order is kept) and applied a batch at a time
// in one transaction. When a batch fails for a reason other than a
// transient one, its messages are applied one by one, so that one bad
// message neither blocks nor poisons its neighbours: a poison message goes
// to the dead-letter topic at once, one that keeps failing after
// MaxAttempts goes there as an error, and transient failures (database or
// broker unreachable, serialization failure, deadlock) are retried with
// backoff for as long as they last, with nothing committed meanwhile.
//
// What every message goes through besides its handler (metrics, panic
// recovery, the trace it continues, and whatever a service adds) is
// Middleware around the Handler; Routes makes a Handler of typed
// functions, one per message type.
//
// The files hold: consumer.go the lifecycle, config.go its settings,
// fetch.go the fetching and the spreading over workers, batch.go the
// batches and their splitting, retry.go the retries, apply.go the
// transaction, deadletter.go the dead letters, router.go the typed
// routes, middleware.go the chain, and one middleware per file.
package consumer

import (
	"context"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"
)

// Consumer applies messages from a consumer group; see the package comment.
type Consumer struct {
	cfg Config
	log *slog.Logger
	// handler is cfg.Handler inside the built-in and configured middleware.
	handler Handler
	health  health
}

// New validates cfg and returns a consumer ready to Run.
func New(cfg Config) (*Consumer, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Consumer{cfg: cfg, log: cfg.Logger.With("component", "consumer")}
	c.handler = c.chain(cfg.Handler, cfg.Middleware)
	return c, nil
}

// Run fetches and applies messages until ctx ends, then lets in-flight
// batches finish (within DrainTimeout), closes the reader and returns nil.
// It returns an error, after the same draining, when it cannot go on
// fetching: the reader was closed under it.
func (c *Consumer) Run(ctx context.Context) error {
	// stop ends with ctx, or when fetching fails for good.
	stop, cancelStop := context.WithCancel(ctx)
	defer cancelStop()
	queues := make([]chan kafka.Message, c.cfg.Workers)
	done := make(chan struct{}, c.cfg.Workers)
	// Workers outlive stop by up to DrainTimeout to finish their batch.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	for i := range queues {
		queues[i] = make(chan kafka.Message, c.cfg.BatchSize)
		go func(q chan kafka.Message) {
			c.work(stop, workCtx, q)
			done <- struct{}{}
		}(queues[i])
	}
	err := c.fetch(stop, queues)
	cancelStop()
	for _, q := range queues {
		close(q)
	}
	drain := time.AfterFunc(c.cfg.DrainTimeout, cancelWork)
	for range queues {
		<-done
	}
	drain.Stop()
	if err := c.cfg.Reader.Close(); err != nil {
		c.log.Warn("close reader", "err", err)
	}
	return err
}
