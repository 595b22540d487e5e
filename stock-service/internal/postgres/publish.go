package postgres

import (
	"context"
	"fmt"

	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/outbox"

	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/stock-service/internal/stock"
)

// publish writes an item.updated snapshot of each item to the outbox,
// keyed by item id so that the compacted items topic keeps the latest.
// sagaID is the order that caused the change, or the item itself for an
// admin change. Callers hold the items' row locks, so snapshots of one
// item enter the outbox in the order of the changes.
//
// In a batch (LockBatch) the items join the batch's changes instead, with
// the units it reserved and has not written yet, and flush writes one
// snapshot per item with the item as the batch leaves it: a hundred
// reserves of one item make one snapshot, not a hundred, and the catalog
// still sees every committed state of the item that anyone else could.
func (s *Store) publish(ctx context.Context, sagaID string, items ...stock.Item) error {
	if b := s.batch(ctx); b != nil {
		for _, it := range items {
			if cur, ok := b.items[it.ID]; ok {
				it.Reserved = cur.Reserved
			}
			b.asked[it.ID] = true // the statement that changed it locked its row
			b.setItem(sagaID, it)
		}
		s.flushBeforeCommit(ctx, b)
		return nil
	}
	records := make([]outbox.Record, len(items))
	for i, it := range items {
		r, err := snapshot(sagaID, it)
		if err != nil {
			return err
		}
		records[i] = r
	}
	return s.writeSnapshots(ctx, records...)
}

// snapshot returns the item.updated record of it.
func snapshot(sagaID string, it stock.Item) (outbox.Record, error) {
	m, err := envelope.New(stockmsg.TypeItemUpdated, sagaID, stockmsg.ItemUpdated{
		ID: it.ID, Name: it.Name, PriceCents: it.PriceCents, Currency: it.Currency, Available: it.Available(),
	})
	if err != nil {
		return outbox.Record{}, err
	}
	return outbox.Record{Topic: topic.Items, Key: it.ID, Message: m}, nil
}

func (s *Store) writeSnapshots(ctx context.Context, records ...outbox.Record) error {
	if err := outbox.Write(ctx, s.tx, records...); err != nil {
		return fmt.Errorf("postgres: publish item snapshots: %w", err)
	}
	return nil
}
