package saga

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/outbox"
	mpostgres "github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/messaging/trace"
	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
)

// Group commit of new orders. Orders placed while others are being
// written wait and are written together, in one transaction and one
// commit, as PostgreSQL's own WAL writer flushes many commits at once: at
// a few orders per second each order commits alone and at once; under load
// a transaction carries as many orders as arrived during the previous ones.
// An idempotency key taken by another order leaves that order out without
// failing its neighbours, and a group whose transaction fails for another
// reason is written again one order at a time, so that one bad order
// fails alone.

// maxGroup bounds the orders written in one transaction.
const maxGroup = 128

// groupWriters is how many group transactions may run at once.
const groupWriters = 2

// committer gathers concurrent placements into groups.
type committer struct {
	mu   sync.Mutex
	open *group
	turn chan struct{} // a slot per group transaction running
}

// placement is one order to write and, once its group is done, its outcome:
// nil when it was written, postgres.ErrDuplicateKey when its idempotency
// key was taken, or the error that failed it.
type placement struct {
	order   postgres.NewOrder
	records []outbox.Record
	err     error
}

type group struct {
	items []*placement
	done  chan struct{}
}

// place writes pl with whatever orders are placed at the same time.
func (c *committer) place(ctx context.Context, write func(context.Context, []*placement) error, pl *placement) error {
	c.mu.Lock()
	if c.turn == nil {
		c.turn = make(chan struct{}, groupWriters)
	}
	g, leader := c.open, false
	if g == nil {
		g, leader = &group{done: make(chan struct{})}, true
		c.open = g
	}
	g.items = append(g.items, pl)
	if len(g.items) >= maxGroup {
		c.open = nil // full: later placements start a new group
	}
	c.mu.Unlock()
	if leader {
		c.lead(ctx, write, g)
	}
	select {
	case <-g.done:
		return pl.err
	case <-ctx.Done():
		// The group goes on: the order may still be written, as with any
		// request whose answer is lost; the Idempotency-Key finds it.
		return ctx.Err()
	}
}

// lead waits for a free slot (collecting meanwhile), closes the group and
// writes it.
func (c *committer) lead(ctx context.Context, write func(context.Context, []*placement) error, g *group) {
	defer close(g.done)
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	select {
	case c.turn <- struct{}{}:
	case <-wctx.Done():
	}
	c.mu.Lock()
	if c.open == g {
		c.open = nil
	}
	items := g.items
	c.mu.Unlock()
	defer func() { <-c.turn }()
	err := write(wctx, items)
	if err == nil || len(items) == 1 || mpostgres.IsTransient(err) {
		if err != nil {
			for _, pl := range items {
				pl.err = err
			}
		}
		return
	}
	// Something in the group failed it: write each order alone.
	for _, pl := range items {
		if err := write(wctx, []*placement{pl}); err != nil {
			pl.err = err
		}
	}
}

// writeGroup inserts the orders of items in one transaction with the
// messages of those it inserted, marking the others ErrDuplicateKey.
func (s *Saga) writeGroup(ctx context.Context, items []*placement) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		orders := make([]postgres.NewOrder, len(items))
		for i, pl := range items {
			orders[i] = pl.order
		}
		inserted, err := postgres.InsertOrders(ctx, tx, orders)
		if err != nil {
			return err
		}
		var records []outbox.Record
		for _, pl := range items {
			pl.err = nil
			if !inserted[pl.order.Order.ID] {
				pl.err = postgres.ErrDuplicateKey
				continue
			}
			records = append(records, pl.records...)
		}
		return outbox.Write(ctx, tx, records...)
	})
}

// commitOrder writes o with its first messages, group-committed with the
// orders placed at the same time.
func (s *Saga) commitOrder(ctx context.Context, o order.Order, key, hash string) error {
	records, err := firstMessages(o)
	if err != nil {
		return err
	}
	// The group's transaction runs on its leader's context: each order's
	// messages keep the trace of the request that placed it.
	for i := range records {
		if records[i].Headers == nil {
			records[i].Headers = map[string]string{}
		}
		records[i].Headers[envelope.HeaderTraceparent] = trace.Header(ctx)
	}
	pl := &placement{order: postgres.NewOrder{Order: o, IdempotencyKey: key, RequestHash: hash}, records: records}
	return s.committer.place(ctx, s.writeGroup, pl)
}
