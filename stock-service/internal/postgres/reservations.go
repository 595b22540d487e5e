package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/stock-service/internal/stock"
)

// Reservation returns the reservation of orderID; ok is false when stock
// has never acted on the order. Callers hold LockOrder.
func (s *Store) Reservation(ctx context.Context, orderID string) (r stock.Reservation, ok bool, err error) {
	if r, ok, known := s.batch(ctx).reservation(orderID); known {
		return r, ok, nil
	}
	r.OrderID = orderID
	err = s.tx.QueryRow(ctx, `SELECT status, lines FROM reservations WHERE order_id = $1`, orderID).
		Scan(&r.Status, &r.Lines)
	if errors.Is(err, pgx.ErrNoRows) {
		return stock.Reservation{}, false, nil
	}
	if err != nil {
		return stock.Reservation{}, false, translate("read reservation "+orderID, err)
	}
	return r, true, nil
}

// ReservedItems returns the items of the Reserved reservations among
// orderIDs' (the items their release will give back), without locking.
func (s *Store) ReservedItems(ctx context.Context, orderIDs []string) ([]string, error) {
	if len(orderIDs) == 0 {
		return nil, nil
	}
	rows, _ := s.tx.Query(ctx, `SELECT DISTINCT l->>'item_id' FROM reservations r, jsonb_array_elements(r.lines) AS l
		WHERE r.order_id = ANY($1) AND r.status = $2`, orderIDs, stock.Reserved)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, translate("reserved items", err)
	}
	return ids, nil
}

// Reserve holds lines (merged, their items locked and checked) for
// orderID and records the reservation. The update is conditional on the
// units being available, so that a caller who skipped the check gets an
// error rather than an oversell.
func (s *Store) Reserve(ctx context.Context, orderID string, lines []stock.Line) error {
	items, err := s.adjust(ctx, "reserve", `UPDATE items i SET reserved = i.reserved + l.quantity, updated_at = now()
		FROM unnest($1::text[], $2::bigint[]) AS l(item_id, quantity)
		WHERE i.id = l.item_id AND i.on_hand - i.reserved >= l.quantity
		RETURNING i.id, i.name, i.price_cents, i.currency, i.on_hand, i.reserved`, lines)
	if err != nil {
		return err
	}
	_, err = s.tx.Exec(ctx, `INSERT INTO reservations (order_id, status, lines) VALUES ($1, $2, $3)`,
		orderID, stock.Reserved, lines)
	if err != nil {
		return translate("insert reservation "+orderID, err)
	}
	b := s.batch(ctx)
	b.changed(items)
	b.setReservation(stock.Reservation{OrderID: orderID, Status: stock.Reserved, Lines: lines})
	return s.publish(ctx, orderID, items...)
}

// Release gives back the units of r, a Reserved reservation, and marks it
// Released.
func (s *Store) Release(ctx context.Context, r stock.Reservation) error {
	if _, err := s.LockItems(ctx, stock.ItemIDs(r.Lines)); err != nil {
		return err
	}
	items, err := s.adjust(ctx, "release", `UPDATE items i SET reserved = i.reserved - l.quantity, updated_at = now()
		FROM unnest($1::text[], $2::bigint[]) AS l(item_id, quantity)
		WHERE i.id = l.item_id AND i.reserved >= l.quantity
		RETURNING i.id, i.name, i.price_cents, i.currency, i.on_hand, i.reserved`, r.Lines)
	if err != nil {
		return err
	}
	if err := s.setStatus(ctx, r.OrderID, stock.Released); err != nil {
		return err
	}
	b := s.batch(ctx)
	b.changed(items)
	b.setReservation(stock.Reservation{OrderID: r.OrderID, Status: stock.Released, Lines: r.Lines})
	return s.publish(ctx, r.OrderID, items...)
}

// Tombstone records that orderID was released before anything was
// reserved, so that a reserve arriving later has no effect.
func (s *Store) Tombstone(ctx context.Context, orderID string) error {
	_, err := s.tx.Exec(ctx, `INSERT INTO reservations (order_id, status) VALUES ($1, $2)`, orderID, stock.Cancelled)
	if err != nil {
		return translate("insert tombstone "+orderID, err)
	}
	s.batch(ctx).setReservation(stock.Reservation{OrderID: orderID, Status: stock.Cancelled})
	return nil
}

func (s *Store) setStatus(ctx context.Context, orderID string, st stock.Status) error {
	_, err := s.tx.Exec(ctx, `UPDATE reservations SET status = $2, updated_at = now() WHERE order_id = $1`, orderID, st)
	if err != nil {
		return translate("update reservation "+orderID, err)
	}
	return nil
}

// adjust runs update, a conditional UPDATE of one row per line, and fails
// unless every line's row changed: a partial change would break "all or
// none", so the caller's transaction must roll back.
func (s *Store) adjust(ctx context.Context, op, update string, lines []stock.Line) ([]stock.Item, error) {
	ids, qs := make([]string, len(lines)), make([]int64, len(lines))
	for i, l := range lines {
		ids[i], qs[i] = l.ItemID, l.Quantity
	}
	rows, _ := s.tx.Query(ctx, update, ids, qs)
	items, err := pgx.CollectRows(rows, scanItem)
	if err != nil {
		return nil, translate(op, err)
	}
	if len(items) != len(lines) {
		return nil, fmt.Errorf("postgres: %s: %d of %d lines could be applied", op, len(items), len(lines))
	}
	return items, nil
}
