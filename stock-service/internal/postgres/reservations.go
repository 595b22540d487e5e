package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	msgpg "github.com/purchase-saga/messaging/postgres"

	"github.com/purchase-saga/stock-service/internal/stock"
)

// Reservation returns the reservation of orderID; ok is false when stock
// has never acted on the order. Callers hold LockOrder.
func (s *Store) Reservation(ctx context.Context, orderID string) (r stock.Reservation, ok bool, err error) {
	b := s.batch(ctx)
	if b == nil {
		b = newBatch() // a batch of this read alone
	}
	if _, _, known := b.reservation(orderID); !known {
		if err := s.readReservations(ctx, b, []string{orderID}); err != nil {
			return stock.Reservation{}, false, err
		}
	}
	r, ok, _ = b.reservation(orderID)
	return r, ok, nil
}

// readReservations reads the reservations of orderIDs into b, and records
// that the others have none.
func (s *Store) readReservations(ctx context.Context, b *batch, orderIDs []string) error {
	if len(orderIDs) == 0 {
		return nil
	}
	rows, _ := s.tx.Query(ctx, reservationsSQL, orderIDs)
	return b.addReservations(rows, orderIDs)
}

// reservationsSQL reads the reservations of the orders of $1.
const reservationsSQL = `SELECT order_id, status, lines FROM reservations WHERE order_id = ANY($1)`

// addReservations records in b the reservations that rows, the result of
// reservationsSQL for orderIDs, holds, and that the other orders of
// orderIDs have none.
func (b *batch) addReservations(rows pgx.Rows, orderIDs []string) error {
	err := msgpg.CollectByKey(rows, func(row pgx.CollectableRow) (stock.Reservation, error) {
		var r stock.Reservation
		err := row.Scan(&r.OrderID, &r.Status, &r.Lines)
		return r, err
	}, func(r *stock.Reservation) string { return r.OrderID }, orderIDs, b.reservations)
	if err != nil {
		return translate("read reservations", err)
	}
	return nil
}

// ReservedItems returns the items of the Reserved reservations among
// orderIDs' (the items their release will give back), without locking.
func (s *Store) ReservedItems(ctx context.Context, orderIDs []string) ([]string, error) {
	if len(orderIDs) == 0 {
		return nil, nil
	}
	rows, _ := s.tx.Query(ctx, reservedItemsSQL, orderIDs, stock.Reserved)
	return collectReservedItems(rows)
}

// reservedLines is, after a SELECT of l->>'item_id', the lines of the
// reservations of the orders of $1 whose status is $2 (stock.Reserved):
// shared by reservedItemsSQL and the statement with which LockBatch locks
// the items of the orders it releases.
const reservedLines = `FROM reservations r, jsonb_array_elements(r.lines) AS l
		WHERE r.order_id = ANY($1) AND r.status = $2`

// reservedItemsSQL reads the items of the Reserved reservations of the
// orders of $1, with $2 stock.Reserved.
const reservedItemsSQL = `SELECT DISTINCT l->>'item_id' ` + reservedLines

// collectReservedItems returns the items that rows, the result of
// reservedItemsSQL, holds.
func collectReservedItems(rows pgx.Rows) ([]string, error) {
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, translate("reserved items", err)
	}
	return ids, nil
}

// Reserve holds lines (merged, their items locked and checked) for
// orderID and records the reservation. A line that cannot be applied
// fails the call, so that a caller who skipped the check gets an error
// rather than an oversell. In a batch (LockBatch) the change is made in
// memory and written before the commit.
func (s *Store) Reserve(ctx context.Context, orderID string, lines []stock.Line) error {
	if b := s.batch(ctx); b != nil {
		if err := s.absent(ctx, "reserve", orderID); err != nil {
			return err
		}
		return s.change(ctx, b, "reserve", stock.Reservation{OrderID: orderID, Status: stock.Reserved, Lines: lines}, 1)
	}
	items, err := s.adjust(ctx, "reserve", lines, 1)
	if err != nil {
		return err
	}
	_, err = s.tx.Exec(ctx, `INSERT INTO reservations (order_id, status, lines) VALUES ($1, $2, $3)`,
		orderID, stock.Reserved, lines)
	if err != nil {
		return translate("insert reservation "+orderID, err)
	}
	return s.publish(ctx, orderID, items...)
}

// Release gives back the units of r, a Reserved reservation, and marks it
// Released. In a batch the change is made in memory and written before
// the commit.
func (s *Store) Release(ctx context.Context, r stock.Reservation) error {
	if b := s.batch(ctx); b != nil {
		cur, ok, err := s.Reservation(ctx, r.OrderID)
		if err != nil {
			return err
		}
		if !ok || cur.Status != stock.Reserved {
			return fmt.Errorf("postgres: release %s: the order holds no units", r.OrderID)
		}
		return s.change(ctx, b, "release", stock.Reservation{OrderID: r.OrderID, Status: stock.Released, Lines: r.Lines}, -1)
	}
	if _, err := s.LockItems(ctx, stock.ItemIDs(r.Lines)); err != nil {
		return err
	}
	items, err := s.adjust(ctx, "release", r.Lines, -1)
	if err != nil {
		return err
	}
	_, err = s.tx.Exec(ctx, `UPDATE reservations SET status = $2, updated_at = now() WHERE order_id = $1`, r.OrderID, stock.Released)
	if err != nil {
		return translate("update reservation "+r.OrderID, err)
	}
	return s.publish(ctx, r.OrderID, items...)
}

// Tombstone records that orderID was released before anything was
// reserved, so that a reserve arriving later has no effect. In a batch it
// is recorded in memory and written before the commit.
func (s *Store) Tombstone(ctx context.Context, orderID string) error {
	if b := s.batch(ctx); b != nil {
		if err := s.absent(ctx, "insert tombstone", orderID); err != nil {
			return err
		}
		b.setReservation(stock.Reservation{OrderID: orderID, Status: stock.Cancelled})
		s.flushBeforeCommit(ctx, b)
		return nil
	}
	_, err := s.tx.Exec(ctx, `INSERT INTO reservations (order_id, status) VALUES ($1, $2)`, orderID, stock.Cancelled)
	if err != nil {
		return translate("insert tombstone "+orderID, err)
	}
	return nil
}

// absent fails, in a batch, when orderID has a reservation already: the
// check that the primary key makes of an INSERT outside one.
func (s *Store) absent(ctx context.Context, op, orderID string) error {
	_, ok, err := s.Reservation(ctx, orderID)
	if err != nil {
		return err
	}
	if ok {
		return fmt.Errorf("postgres: %s %s: the order has a reservation already", op, orderID)
	}
	return nil
}

// fits reports whether delta more reserved units (fewer when negative)
// leave it between none reserved and all its units on hand. fitsSQL says
// the same of an items row i and a line l: a batch, which checks its
// lines in memory, refuses exactly the lines that adjust refuses.
func fits(it stock.Item, delta int64) bool {
	return -it.Reserved <= delta && delta <= it.OnHand-it.Reserved
}

const fitsSQL = `-i.reserved <= l.delta AND l.delta <= i.on_hand - i.reserved`

// adjust adds sign times each line's quantity to its item's reserved
// units in one conditional UPDATE, and fails unless every line's row
// changed: a partial change would break "all or none", so the caller's
// transaction must roll back.
func (s *Store) adjust(ctx context.Context, op string, lines []stock.Line, sign int64) ([]stock.Item, error) {
	ids, deltas := make([]string, len(lines)), make([]int64, len(lines))
	for i, l := range lines {
		ids[i], deltas[i] = l.ItemID, sign*l.Quantity
	}
	rows, _ := s.tx.Query(ctx, `UPDATE items i SET reserved = i.reserved + l.delta, updated_at = now()
		FROM unnest($1::text[], $2::bigint[]) AS l(item_id, delta)
		WHERE i.id = l.item_id AND `+fitsSQL+` RETURNING `+itemColumns, ids, deltas)
	items, err := pgx.CollectRows(rows, scanItem)
	if err != nil {
		return nil, translate(op, err)
	}
	if err := applied(op, len(items), len(lines)); err != nil {
		return nil, err
	}
	return items, nil
}

// change applies r's lines, sign times their quantities, to the batch's
// items as adjust does, and records r; flush writes both before the
// commit.
func (s *Store) change(ctx context.Context, b *batch, op string, r stock.Reservation, sign int64) error {
	if _, err := s.LockItems(ctx, stock.ItemIDs(r.Lines)); err != nil {
		return err // in a consumer's batch LockBatch holds them already: no round trip
	}
	items := make([]stock.Item, 0, len(r.Lines))
	for _, l := range r.Lines {
		if it, ok := b.items[l.ItemID]; ok && fits(it, sign*l.Quantity) {
			it.Reserved += sign * l.Quantity
			items = append(items, it)
		}
	}
	if err := applied(op, len(items), len(r.Lines)); err != nil {
		return err
	}
	for _, it := range items {
		b.setItem(r.OrderID, it)
	}
	b.setReservation(r)
	s.flushBeforeCommit(ctx, b)
	return nil
}

func applied(op string, n, of int) error {
	if n != of {
		return fmt.Errorf("postgres: %s: %d of %d lines could be applied", op, n, of)
	}
	return nil
}
