package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	mpostgres "github.com/purchase-saga/messaging/postgres"
)

// Item is the catalog's view of a stock item.
type Item struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	PriceCents int64  `json:"price_cents"`
	Currency   string `json:"currency"`
	Available  int64  `json:"available"`
}

// Catalog is the catalog read model, in a transaction (Tx) or on the
// pool (Store).
type Catalog struct {
	q querier
}

// Upsert stores the latest snapshots of items (distinct ids) in one
// statement.
func (c Catalog) Upsert(ctx context.Context, items ...Item) error {
	n := len(items)
	if n == 0 {
		return nil
	}
	ids, names, prices, currencies, available := make([]string, n), make([]string, n), make([]int64, n), make([]string, n), make([]int64, n)
	for i, it := range items {
		ids[i], names[i], prices[i], currencies[i], available[i] = it.ID, it.Name, it.PriceCents, it.Currency, it.Available
	}
	_, err := c.q.Exec(ctx, `INSERT INTO catalog (item_id, name, price_cents, currency, available, updated_at)
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
func (c Catalog) Items(ctx context.Context, ids []string) (map[string]Item, error) {
	rows, err := c.q.Query(ctx, `SELECT item_id, name, price_cents, currency, available FROM catalog WHERE item_id = ANY($1)`, ids)
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

// Since returns the catalog entries updated at or after since, and
// the latest update time among them (since when none).
func (c Catalog) Since(ctx context.Context, since time.Time) (map[string]Item, time.Time, error) {
	rows, err := c.q.Query(ctx, `SELECT item_id, name, price_cents, currency, available, updated_at FROM catalog WHERE updated_at >= $1`, since)
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

// CatalogTx is the catalog of one transaction.
type CatalogTx struct {
	Catalog
	tx pgx.Tx
}

// Put stores the latest snapshot of an item: in a transaction with hooks
// (a consumer's batch) the last snapshot of each item is kept and all are
// stored in one statement just before the commit; otherwise at once.
func (c CatalogTx) Put(ctx context.Context, it Item) error {
	if s := snapshotsOf(ctx, c.tx); s != nil {
		s.put(it)
		return nil
	}
	return c.Upsert(ctx, it)
}

// snapshots are the catalog snapshots a transaction brought, the last of
// each item.
type snapshots struct {
	items []Item
	index map[string]int
}

func snapshotsOf(ctx context.Context, tx pgx.Tx) *snapshots {
	return mpostgres.Pending(ctx, "catalog", func(ctx context.Context, s *snapshots) error {
		return Catalog{q: tx}.Upsert(ctx, s.items...)
	})
}

// put keeps it, in place of an earlier snapshot of the same item.
func (s *snapshots) put(it Item) {
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
