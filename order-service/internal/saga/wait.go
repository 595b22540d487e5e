package saga

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/retry"
	"github.com/purchase-saga/order-service/internal/order"
)

// Waiter wakes long polls when an order becomes terminal. It listens on
// TerminalChannel over a connection of its own, so a wake-up sent by any
// instance reaches the waiters of every instance; an order that ends in
// this instance is handed to its waiters as it committed (Ended), so that
// they need not read it again.
type Waiter struct {
	DatabaseURL string
	Log         *slog.Logger

	mu      sync.Mutex
	waiting map[string]map[chan *order.Order]struct{}
	// recent holds the orders that ended lately (nil: ended in another
	// instance, read it), for a wait that subscribes just after the end.
	recent map[string]recentEnd
	sweep  time.Time
	origin string
	once   sync.Once
}

// Origin names this instance in the notifications of the orders that end
// here, which its own listener then leaves to Ended; "" for a nil Waiter.
func (w *Waiter) Origin() string {
	if w == nil {
		return ""
	}
	w.once.Do(func() { w.origin = uuid.NewString() })
	return w.origin
}

// recentEnd is a recent end: the order as it committed, when known.
type recentEnd struct {
	order *order.Order
	at    time.Time
}

// keepRecent is how long a recent end is remembered.
const keepRecent = 5 * time.Second

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
		id, origin, _ := strings.Cut(n.Payload, " ")
		if origin != "" && origin == w.Origin() {
			continue // ended here: Ended hands it over as it committed
		}
		w.wake(id)
	}
}

// subscribe returns a channel that receives the order id when it ends
// (nil: read it) and a function that ends the subscription. An end that
// came just before is delivered at once.
func (w *Waiter) subscribe(id string) (chan *order.Order, func()) {
	ch := make(chan *order.Order, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.waiting == nil {
		w.waiting = map[string]map[chan *order.Order]struct{}{}
	}
	if w.waiting[id] == nil {
		w.waiting[id] = map[chan *order.Order]struct{}{}
	}
	w.waiting[id][ch] = struct{}{}
	if e, ok := w.recent[id]; ok {
		ch <- e.order
	}
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.waiting[id], ch)
		if len(w.waiting[id]) == 0 {
			delete(w.waiting, id)
		}
	}
}

// Ended hands o, which has just committed as terminal in this instance,
// to its waiters.
func (w *Waiter) Ended(o order.Order) {
	w.wakeWith(o.ID, &o)
}

func (w *Waiter) wake(id string) { w.wakeWith(id, nil) }

func (w *Waiter) wakeWith(id string, o *order.Order) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	if w.recent == nil {
		w.recent = map[string]recentEnd{}
	}
	if prev, ok := w.recent[id]; !ok || prev.order == nil {
		w.recent[id] = recentEnd{order: o, at: now}
	}
	if now.Sub(w.sweep) > keepRecent {
		for k, e := range w.recent {
			if now.Sub(e.at) > keepRecent {
				delete(w.recent, k)
			}
		}
		w.sweep = now
	}
	for ch := range w.waiting[id] {
		select {
		case ch <- o:
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
		w.mu.Lock()
		for ch := range w.waiting[id] {
			select {
			case ch <- nil:
			default:
			}
		}
		w.mu.Unlock()
	}
}

// recheck bounds how long a wait relies on notifications alone.
const recheck = time.Second

// Get returns the order, waiting up to wait for it to become terminal.
// A wait subscribes before it reads, so that one read is enough to know
// the order and no end is missed between the read and the subscription.
func (s *Saga) Get(ctx context.Context, w *Waiter, id string, wait time.Duration) (order.Order, error) {
	if wait <= 0 || w == nil {
		return s.Store.Orders().Get(ctx, id)
	}
	return s.wait(ctx, w, id, nil, wait)
}

// Wait returns o, just placed, once it is terminal or wait has passed. It
// reads the order only if it ended in another instance or no end came
// within a recheck.
func (s *Saga) Wait(ctx context.Context, w *Waiter, o order.Order, wait time.Duration) (order.Order, error) {
	if wait <= 0 || w == nil || o.Terminal() {
		return o, nil
	}
	return s.wait(ctx, w, o.ID, &o, wait)
}

// wait waits for order id, known as known (nil: read it first).
func (s *Saga) wait(ctx context.Context, w *Waiter, id string, known *order.Order, wait time.Duration) (order.Order, error) {
	ch, unsubscribe := w.subscribe(id)
	defer unsubscribe()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		if known == nil {
			o, err := s.Store.Orders().Get(ctx, id)
			if err != nil {
				return o, err
			}
			known = &o
		}
		if known.Terminal() {
			return *known, nil
		}
		tick := time.NewTimer(recheck)
		select {
		case <-ctx.Done():
			tick.Stop()
			return *known, fmt.Errorf("saga: wait for order %s: %w", id, ctx.Err())
		case <-deadline.C:
			tick.Stop()
			return *known, nil
		case known = <-ch:
		case <-tick.C:
			known = nil
		}
		tick.Stop()
	}
}
