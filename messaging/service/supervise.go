package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// runner is background work that runs until its context ends and can say
// whether it keeps failing: *consumer.Consumer and *outbox.Relay.
type runner interface {
	Run(ctx context.Context) error
	Health(stall time.Duration) error
}

// supervised is a runner that Run starts and watches: one that returns
// before shutdown will not come back by itself, so /readyz names it from
// then on and Run returns its error when the service ends.
type supervised struct {
	name string
	runner
	mu      sync.Mutex
	stopped error
}

// supervise returns r under name, the name /readyz and the logs give it.
func supervise(name string, r runner) *supervised {
	return &supervised{name: name, runner: r}
}

// start runs w on wg until ctx ends. When it returns earlier, with an
// error or without, that is recorded and logged.
func (w *supervised) start(ctx context.Context, wg *sync.WaitGroup, log *slog.Logger) {
	wg.Go(func() {
		err := w.Run(ctx)
		if ctx.Err() != nil {
			return // shutdown
		}
		if err == nil {
			err = errors.New("returned before shutdown")
		}
		err = fmt.Errorf("%s stopped: %w", w.name, err)
		w.mu.Lock()
		w.stopped = err
		w.mu.Unlock()
		log.Error("background work stopped", "component", w.name, "err", err)
	})
}

// stoppedErr returns why w stopped before shutdown, or nil.
func (w *supervised) stoppedErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stopped
}

// check returns nil while w does its job, and otherwise why not: it
// stopped, or has kept failing for longer than stall.
func (w *supervised) check(stall time.Duration) error {
	if err := w.stoppedErr(); err != nil {
		return err
	}
	return w.Health(stall)
}
