package saga

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/outbox"
	mpostgres "github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
)

// changes are the orders a transaction changed, kept until just before
// its commit and then written in one round trip: one UPDATE of every
// order (its last state), one notification per order that ended. A batch
// of a hundred replies then costs two statements rather than two hundred.
type changes struct {
	// origin names the instance in the notifications (Waiter.Origin).
	origin string
	orders []order.Order
	index  map[string]int
	ended  []string
}

// changesOf returns the changes of the transaction whose context ctx is,
// written just before its commit; nil outside a transaction with hooks.
func changesOf(ctx context.Context, tx pgx.Tx, origin string) *changes {
	c := mpostgres.Pending(ctx, "orders", func(ctx context.Context, c *changes) error {
		// The outbox rows the replies wrote go in the same round trip.
		batch, err := c.queue()
		if err != nil {
			return err
		}
		outbox.QueuePending(ctx, batch)
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return fmt.Errorf("saga: save %d orders: %w", len(c.orders), err)
		}
		return nil
	})
	if c != nil {
		c.origin = origin
	}
	return c
}

// add records o's new state, and that it ended.
func (c *changes) add(o order.Order, ended bool) {
	if i, ok := c.index[o.ID]; ok {
		c.orders[i] = o
	} else {
		if c.index == nil {
			c.index = map[string]int{}
		}
		c.index[o.ID] = len(c.orders)
		c.orders = append(c.orders, o)
	}
	if ended {
		c.ended = append(c.ended, o.ID)
	}
}

// queue returns a batch that writes the changes.
func (c *changes) queue() (*pgx.Batch, error) {
	batch := &pgx.Batch{}
	if err := postgres.QueueUpdateOrders(batch, c.orders); err != nil {
		return nil, err
	}
	if len(c.ended) > 0 {
		// The payload is the order's id and the instance where it ended.
		batch.Queue(`SELECT pg_notify($1, rtrim(id || ' ' || $3)) FROM unnest($2::text[]) AS id`, TerminalChannel, c.ended, c.origin)
	}
	return batch, nil
}

// snapshots are the catalog snapshots a batch of item.updated brought,
// the last of each item, stored in one statement before the commit.
type snapshots struct {
	items []postgres.Item
	index map[string]int
}

func snapshotsOf(ctx context.Context, tx pgx.Tx) *snapshots {
	return mpostgres.Pending(ctx, "catalog", func(ctx context.Context, s *snapshots) error {
		return postgres.UpsertItems(ctx, tx, s.items)
	})
}

// put keeps it, in place of an earlier snapshot of the same item.
func (s *snapshots) put(it postgres.Item) {
	if i, ok := s.index[it.ID]; ok {
		s.items[i] = it
		return
	}
	if s.index == nil {
		s.index = map[string]int{}
	}
	s.index[it.ID] = len(s.items)
	s.items = append(s.items, it)
}
