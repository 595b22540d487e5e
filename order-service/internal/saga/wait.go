package saga

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/retry"
	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
)

// Waiter wakes long polls when an order becomes terminal. It listens on
// TerminalChannel over a connection of its own, so a wake-up sent by any
// instance reaches the waiters of every instance.
type Waiter struct {
	DatabaseURL string
	Log         *slog.Logger

	mu      sync.Mutex
	waiting map[string]map[chan struct{}]struct{}
}

// Run listens until ctx ends, reconnecting after failures.
func (w *Waiter) Run(ctx context.Context) error {
	for attempt := 1; ctx.Err() == nil; attempt++ {
		err := w.listen(ctx)
		if ctx.Err() != nil {
			return nil
		}
		w.Log.Warn("order waiter lost its connection", "err", err)
		w.wakeAll() // a notification may have been missed
		_ = retry.Default.Sleep(ctx, attempt)
	}
	return nil
}

func (w *Waiter) listen(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, w.DatabaseURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+TerminalChannel); err != nil {
		return err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		w.wake(n.Payload)
	}
}

func (w *Waiter) subscribe(id string) (chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.waiting == nil {
		w.waiting = map[string]map[chan struct{}]struct{}{}
	}
	if w.waiting[id] == nil {
		w.waiting[id] = map[chan struct{}]struct{}{}
	}
	w.waiting[id][ch] = struct{}{}
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.waiting[id], ch)
		if len(w.waiting[id]) == 0 {
			delete(w.waiting, id)
		}
	}
}

func (w *Waiter) wake(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.waiting[id] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (w *Waiter) wakeAll() {
	w.mu.Lock()
	ids := make([]string, 0, len(w.waiting))
	for id := range w.waiting {
		ids = append(ids, id)
	}
	w.mu.Unlock()
	for _, id := range ids {
		w.wake(id)
	}
}

// recheck bounds how long a wait relies on notifications alone.
const recheck = time.Second

// Get returns the order, waiting up to wait for it to become terminal.
// A wait subscribes before it reads, so that one read is enough to know
// the order and no end is missed between the read and the subscription.
func (s *Saga) Get(ctx context.Context, w *Waiter, id string, wait time.Duration) (order.Order, error) {
	if wait <= 0 || w == nil {
		return postgres.GetOrder(ctx, s.Pool, id)
	}
	ch, unsubscribe := w.subscribe(id)
	defer unsubscribe()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		o, err := postgres.GetOrder(ctx, s.Pool, id)
		if err != nil || o.Terminal() {
			return o, err
		}
		tick := time.NewTimer(recheck)
		select {
		case <-ctx.Done():
			tick.Stop()
			return o, fmt.Errorf("saga: wait for order %s: %w", id, ctx.Err())
		case <-deadline.C:
			tick.Stop()
			return o, nil
		case <-ch:
		case <-tick.C:
		}
		tick.Stop()
	}
}
