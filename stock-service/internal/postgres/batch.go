package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	msgpg "github.com/purchase-saga/messaging/postgres"

	"github.com/purchase-saga/stock-service/internal/stock"
)

// batchKey keys a consumer batch's reads in its transaction.
type batchKey struct{}

// batch is what LockBatch read for a consumer batch, kept as the batch's
// commands change it, so that each command reads no row again: the items
// locked (and which ids were asked for, existing or not) and the
// reservations of the batch's orders.
type batch struct {
	items        map[string]stock.Item
	asked        map[string]bool
	reservations map[string]*stock.Reservation // nil: none yet
}

func (s *Store) batch(ctx context.Context) *batch {
	v, ok := msgpg.TxValue(ctx, batchKey{})
	if !ok {
		return nil
	}
	return v.(*batch)
}

// LockBatch takes, for a consumer batch, the locks of orderIDs (in one
// global order) and of the items, those of items and those the released
// orders hold, in id order; and reads the reservations of orderIDs. The
// batch's commands then find all of it in memory (ctx must be the
// transaction's, see postgres.WithTxHooks).
func (s *Store) LockBatch(ctx context.Context, orderIDs, items, releases []string) error {
	if err := s.LockOrders(ctx, orderIDs); err != nil {
		return err
	}
	reserved, err := s.ReservedItems(ctx, releases)
	if err != nil {
		return err
	}
	ids := append(items, reserved...)
	locked, err := s.LockItems(ctx, ids)
	if err != nil {
		return err
	}
	b := &batch{items: locked, asked: map[string]bool{}, reservations: map[string]*stock.Reservation{}}
	for _, id := range ids {
		b.asked[id] = true
	}
	if len(orderIDs) > 0 {
		rows, _ := s.tx.Query(ctx, `SELECT order_id, status, lines FROM reservations WHERE order_id = ANY($1)`, orderIDs)
		rs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (stock.Reservation, error) {
			var r stock.Reservation
			err := row.Scan(&r.OrderID, &r.Status, &r.Lines)
			return r, err
		})
		if err != nil {
			return translate("read reservations", err)
		}
		for _, id := range orderIDs {
			b.reservations[id] = nil
		}
		for i := range rs {
			b.reservations[rs[i].OrderID] = &rs[i]
		}
	}
	msgpg.SetTxValue(ctx, batchKey{}, b)
	return nil
}

// lockedItems returns the items of ids from the batch when it asked for
// all of them.
func (b *batch) lockedItems(ids []string) (map[string]stock.Item, bool) {
	if b == nil {
		return nil, false
	}
	out := make(map[string]stock.Item, len(ids))
	for _, id := range ids {
		if !b.asked[id] {
			return nil, false
		}
		if it, ok := b.items[id]; ok {
			out[id] = it
		}
	}
	return out, true
}

// changed records the items as a command left them.
func (b *batch) changed(items []stock.Item) {
	if b == nil {
		return
	}
	for _, it := range items {
		if b.asked[it.ID] {
			b.items[it.ID] = it
		}
	}
}

// reservation returns what the batch knows of orderID's reservation.
func (b *batch) reservation(orderID string) (r stock.Reservation, ok, known bool) {
	if b == nil {
		return stock.Reservation{}, false, false
	}
	p, known := b.reservations[orderID]
	if !known || p == nil {
		return stock.Reservation{}, false, known
	}
	return *p, true, true
}

// setReservation records orderID's reservation as a command left it.
func (b *batch) setReservation(r stock.Reservation) {
	if b == nil {
		return
	}
	if _, known := b.reservations[r.OrderID]; known {
		b.reservations[r.OrderID] = &r
	}
}
