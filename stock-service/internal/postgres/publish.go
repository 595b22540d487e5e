package postgres

import (
	"context"
	"fmt"

	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/outbox"
	msgpg "github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/messaging/topic"

	"github.com/purchase-saga/stock-service/internal/stock"
	"github.com/purchase-saga/stock-service/stockmsg"
)

// publish writes an item.updated snapshot of each item to the outbox,
// keyed by item id so that the compacted items topic keeps the latest.
// sagaID is the order that caused the change, or the item itself for an
// admin change. Callers hold the items' row locks, so snapshots of one
// item enter the outbox in the order of the changes.
//
// In a consumer's batch the snapshot is written once per item, just before
// the batch commits, with the item as the batch leaves it: a hundred
// reserves of one item make one snapshot, not a hundred, and the catalog
// still sees every committed state of the item that anyone else could.
func (s *Store) publish(ctx context.Context, sagaID string, items ...stock.Item) error {
	var now []stock.Item
	for _, it := range items {
		id := it.ID
		deferred := msgpg.BeforeCommit(ctx, "item.updated "+id, func(ctx context.Context) error {
			final, err := s.Item(ctx, id)
			if err != nil {
				return err
			}
			return s.writeSnapshots(ctx, sagaID, final)
		})
		if !deferred {
			now = append(now, it)
		}
	}
	return s.writeSnapshots(ctx, sagaID, now...)
}

func (s *Store) writeSnapshots(ctx context.Context, sagaID string, items ...stock.Item) error {
	records := make([]outbox.Record, 0, len(items))
	for _, it := range items {
		m, err := envelope.New(stockmsg.TypeItemUpdated, sagaID, stockmsg.ItemUpdated{
			ID: it.ID, Name: it.Name, PriceCents: it.PriceCents, Currency: it.Currency, Available: it.Available(),
		})
		if err != nil {
			return err
		}
		records = append(records, outbox.Record{Topic: topic.Items, Key: it.ID, Message: m})
	}
	if err := outbox.Write(ctx, s.tx, records...); err != nil {
		return fmt.Errorf("postgres: publish item snapshots: %w", err)
	}
	return nil
}
