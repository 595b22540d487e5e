package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/stock-service/internal/stock"
)

// itemColumns are read by scanItem, in its order.
const itemColumns = `id, name, price_cents, currency, on_hand, reserved`

func scanItem(row pgx.CollectableRow) (stock.Item, error) {
	var it stock.Item
	err := row.Scan(&it.ID, &it.Name, &it.PriceCents, &it.Currency, &it.OnHand, &it.Reserved)
	return it, err
}

// Item returns the item id, or stock.ErrNotFound.
func (s *Store) Item(ctx context.Context, id string) (stock.Item, error) {
	rows, _ := s.tx.Query(ctx, `SELECT `+itemColumns+` FROM items WHERE id = $1`, id)
	return one(rows, "item "+id)
}

// Items returns up to limit items in id order, those after the id after
// ("" for the first).
func (s *Store) Items(ctx context.Context, after string, limit int) ([]stock.Item, error) {
	rows, _ := s.tx.Query(ctx, `SELECT `+itemColumns+` FROM items WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	items, err := pgx.CollectRows(rows, scanItem)
	if err != nil {
		return nil, translate("list items", err)
	}
	return items, nil
}

// PutItem creates item id with d or updates its details, keeping its
// stock, and reports whether it was created, in the caller's transaction.
// The API puts items with CreateItem and DB.Update instead.
func (s *Store) PutItem(ctx context.Context, id string, d stock.Details) (it stock.Item, created bool, err error) {
	err = s.tx.QueryRow(ctx, `INSERT INTO items (id, name, price_cents, currency) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET name = $2, price_cents = $3, currency = $4, updated_at = now()
		RETURNING `+itemColumns+`, xmax = 0`, id, d.Name, d.PriceCents, d.Currency).
		Scan(&it.ID, &it.Name, &it.PriceCents, &it.Currency, &it.OnHand, &it.Reserved, &created)
	if err != nil {
		return stock.Item{}, false, translate("put item "+id, err)
	}
	return it, created, s.publish(ctx, id, it)
}

// CreateItem creates item id with d and no stock, and reports whether it
// did: false, with no item, when the item exists already, whose details
// the caller then changes with DB.Update.
func (s *Store) CreateItem(ctx context.Context, id string, d stock.Details) (stock.Item, bool, error) {
	rows, _ := s.tx.Query(ctx, `INSERT INTO items (id, name, price_cents, currency) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO NOTHING RETURNING `+itemColumns, id, d.Name, d.PriceCents, d.Currency)
	it, err := one(rows, "create item "+id)
	if errors.Is(err, stock.ErrNotFound) {
		return stock.Item{}, false, nil
	}
	if err != nil {
		return stock.Item{}, false, err
	}
	return it, true, s.publish(ctx, id, it)
}

// lockItem reads item id and locks its row until the transaction ends
// (DB.Update), or returns stock.ErrNotFound.
func (s *Store) lockItem(ctx context.Context, id string) (stock.Item, error) {
	rows, _ := s.tx.Query(ctx, `SELECT `+itemColumns+` FROM items WHERE id = $1 FOR UPDATE`, id)
	return one(rows, "lock item "+id)
}

// saveItem writes now, what the domain made of was (DB.Update), and its
// item.updated snapshot. Reserved units change only with the reservations
// that hold them (Reserve, Release), so a change of them here, or of the
// id, is refused rather than written.
func (s *Store) saveItem(ctx context.Context, was, now stock.Item) (stock.Item, error) {
	if now.ID != was.ID || now.Reserved != was.Reserved {
		return stock.Item{}, fmt.Errorf("postgres: update item %s: an update may change neither the id nor the reserved units", was.ID)
	}
	rows, _ := s.tx.Query(ctx, `UPDATE items SET name = $2, price_cents = $3, currency = $4, on_hand = $5, updated_at = now()
		WHERE id = $1 RETURNING `+itemColumns, was.ID, now.Name, now.PriceCents, now.Currency, now.OnHand)
	it, err := one(rows, "update item "+was.ID)
	if err != nil {
		return stock.Item{}, err
	}
	return it, s.publish(ctx, was.ID, it)
}

// Restock adds quantity units to item id, or returns stock.ErrNotFound.
// The API restocks through DB.Update instead; this adds the units in the
// caller's transaction, with no rules but the schema's.
func (s *Store) Restock(ctx context.Context, id string, quantity int64) (stock.Item, error) {
	rows, _ := s.tx.Query(ctx, `UPDATE items SET on_hand = on_hand + $2, updated_at = now()
		WHERE id = $1 RETURNING `+itemColumns, id, quantity)
	it, err := one(rows, "restock "+id)
	if err != nil {
		return stock.Item{}, err
	}
	return it, s.publish(ctx, id, it)
}

// LockItems locks the existing items among ids, in id order so that
// concurrent multi-line orders cannot deadlock, and returns them by id. In
// a batch (LockBatch) the items it holds already come from memory, as its
// commands left them.
func (s *Store) LockItems(ctx context.Context, ids []string) (map[string]stock.Item, error) {
	b := s.batch(ctx)
	if b == nil {
		b = newBatch() // a batch of this call alone
	}
	if err := s.hold(ctx, b, ids); err != nil {
		return nil, err
	}
	return b.held(ids), nil
}

// hold locks the items among ids that b has not asked for yet, in id
// order, and adds them to b.
func (s *Store) hold(ctx context.Context, b *batch, ids []string) error {
	var missing []string
	for _, id := range ids {
		if !b.asked[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	rows, _ := s.tx.Query(ctx, lockItemsSQL, missing)
	items, err := pgx.CollectRows(rows, scanItem)
	if err != nil {
		return translate("lock items", err)
	}
	for _, id := range missing {
		b.asked[id] = true
	}
	for _, it := range items {
		b.items[it.ID] = it
	}
	return nil
}

func one(rows pgx.Rows, op string) (stock.Item, error) {
	it, err := pgx.CollectExactlyOneRow(rows, scanItem)
	if errors.Is(err, pgx.ErrNoRows) {
		return stock.Item{}, stock.ErrNotFound
	}
	if err != nil {
		return stock.Item{}, translate(op, err)
	}
	return it, nil
}
