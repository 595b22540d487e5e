package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/outbox"
	mpostgres "github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/order-service/internal/order"
)

// EndedChannel is notified when an order becomes terminal, so that long
// polls on any instance wake up: the payload is the order's id, then a
// space and the instance where it ended (Change.Origin) when known.
const EndedChannel = "order_terminal"

// changes are the orders a transaction changed, kept until just before
// its commit and then written in one round trip: one UPDATE of every
// order (its last state), one notification per order that ended. A batch
// of a hundred replies then costs two statements rather than two hundred.
type changes struct {
	orders []order.Order
	index  map[string]int
	// ended and origins are the orders that ended and where.
	ended, origins []string
}

// changesOf returns the changes of the transaction whose context ctx is,
// written just before its commit; nil outside a transaction with hooks.
func changesOf(ctx context.Context, tx pgx.Tx) *changes {
	return mpostgres.Pending(ctx, "orders", func(ctx context.Context, c *changes) error {
		// The outbox rows of the transaction go in the same round trip.
		batch, err := c.queue()
		if err != nil {
			return err
		}
		outbox.QueuePending(ctx, batch)
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return fmt.Errorf("postgres: save %d orders: %w", len(c.orders), err)
		}
		return nil
	})
}

// add records the order's new state, and that it ended.
func (c *changes) add(ch Change) {
	o := ch.Order
	if i, ok := c.index[o.ID]; ok {
		c.orders[i] = o
	} else {
		if c.index == nil {
			c.index = map[string]int{}
		}
		c.index[o.ID] = len(c.orders)
		c.orders = append(c.orders, o)
	}
	if ch.Ended {
		c.ended, c.origins = append(c.ended, o.ID), append(c.origins, ch.Origin)
	}
}

// queue returns a batch that writes the changes.
func (c *changes) queue() (*pgx.Batch, error) {
	batch := &pgx.Batch{}
	if err := queueUpdate(batch, c.orders); err != nil {
		return nil, err
	}
	if len(c.ended) > 0 {
		// The payload is the order's id and the instance where it ended.
		batch.Queue(`SELECT pg_notify($1, rtrim(v.id || ' ' || v.origin)) FROM unnest($2::text[], $3::text[]) AS v(id, origin)`,
			EndedChannel, c.ended, c.origins)
	}
	return batch, nil
}
