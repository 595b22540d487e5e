package postgres

import (
	"context"
	"fmt"
	"time"
)

// Item is the catalog's view of a stock item.
type Item struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	PriceCents int64  `json:"price_cents"`
	Currency   string `json:"currency"`
	Available  int64  `json:"available"`
}

// UpsertItem stores the latest snapshot of an item.
func UpsertItem(ctx context.Context, q Querier, it Item) error {
	return UpsertItems(ctx, q, []Item{it})
}

// UpsertItems stores the latest snapshots of items (distinct ids) in one
// statement.
func UpsertItems(ctx context.Context, q Querier, items []Item) error {
	n := len(items)
	ids, names, prices, currencies, available := make([]string, n), make([]string, n), make([]int64, n), make([]string, n), make([]int64, n)
	for i, it := range items {
		ids[i], names[i], prices[i], currencies[i], available[i] = it.ID, it.Name, it.PriceCents, it.Currency, it.Available
	}
	_, err := q.Exec(ctx, `INSERT INTO catalog (item_id, name, price_cents, currency, available, updated_at)
		SELECT v.*, now() FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[]) AS v
		ON CONFLICT (item_id) DO UPDATE SET name = excluded.name, price_cents = excluded.price_cents,
			currency = excluded.currency, available = excluded.available, updated_at = now()`,
		ids, names, prices, currencies, available)
	if err != nil {
		return fmt.Errorf("postgres: upsert catalog item %s (of %d): %w", ids[0], n, err)
	}
	return nil
}

// Items returns the catalog entries among ids, by id.
func Items(ctx context.Context, q Querier, ids []string) (map[string]Item, error) {
	rows, err := q.Query(ctx, `SELECT item_id, name, price_cents, currency, available FROM catalog WHERE item_id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: catalog items: %w", err)
	}
	defer rows.Close()
	out := make(map[string]Item, len(ids))
	for rows.Next() {
		var it Item
		if err := rows.Scan(&it.ID, &it.Name, &it.PriceCents, &it.Currency, &it.Available); err != nil {
			return nil, fmt.Errorf("postgres: scan catalog item: %w", err)
		}
		out[it.ID] = it
	}
	return out, rows.Err()
}

// CatalogSince returns the catalog entries updated at or after since, and
// the latest update time among them (since when none).
func CatalogSince(ctx context.Context, q Querier, since time.Time) (map[string]Item, time.Time, error) {
	rows, err := q.Query(ctx, `SELECT item_id, name, price_cents, currency, available, updated_at FROM catalog WHERE updated_at >= $1`, since)
	if err != nil {
		return nil, since, fmt.Errorf("postgres: catalog since %s: %w", since, err)
	}
	defer rows.Close()
	out := map[string]Item{}
	latest := since
	for rows.Next() {
		var it Item
		var at time.Time
		if err := rows.Scan(&it.ID, &it.Name, &it.PriceCents, &it.Currency, &it.Available, &at); err != nil {
			return nil, since, fmt.Errorf("postgres: scan catalog entry: %w", err)
		}
		out[it.ID] = it
		if at.After(latest) {
			latest = at
		}
	}
	return out, latest, rows.Err()
}

// UnitsInFlight returns, per item, the units of the pending orders whose
// step named step (the one that reserves stock) has not been answered yet
// (through the index of pending orders).
func UnitsInFlight(ctx context.Context, q Querier, step string) (map[string]int64, error) {
	rows, err := q.Query(ctx, `SELECT l->>'item_id', sum((l->>'quantity')::bigint)::bigint
		FROM orders o, jsonb_array_elements(o.lines) AS l
		WHERE o.status = 'PENDING' AND o.steps->$1->>'status' = 'PENDING' GROUP BY 1`, step)
	if err != nil {
		return nil, fmt.Errorf("postgres: units in flight: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("postgres: scan units in flight: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}
