package timeline

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Query selects orders; zero fields select everything.
type Query struct {
	Status, Reason, Customer string
	// Since and Until bound the creation time: [Since, Until).
	Since, Until time.Time
	// After is the last id of the page before: the page holds older orders.
	After string
	// Limit is the page's size (50 when not positive).
	Limit int
}

// ListOrders returns a page of the orders q selects, newest first (order
// ids are UUIDv7s: their order is their creation's), and the After of the
// next page ("" when this one is the last).
func ListOrders(ctx context.Context, pool *pgxpool.Pool, q Query) ([]Order, string, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	var since, until *time.Time
	if !q.Since.IsZero() {
		since = &q.Since
	}
	if !q.Until.IsZero() {
		until = &q.Until
	}
	rows, err := pool.Query(ctx, `SELECT `+orderColumns+` FROM orders
		WHERE ($1 = '' OR status = $1) AND ($2 = '' OR failure_reason = $2) AND ($3 = '' OR customer_id = $3)
		  AND ($4::timestamptz IS NULL OR created_at >= $4) AND ($5::timestamptz IS NULL OR created_at < $5)
		  AND ($6 = '' OR id < $6::uuid)
		ORDER BY id DESC LIMIT $7`, q.Status, q.Reason, q.Customer, since, until, q.After, q.Limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("orders: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Order, error) { return scanOrder(r) })
	if err != nil {
		return nil, "", fmt.Errorf("orders: %w", err)
	}
	next := ""
	if len(out) > q.Limit {
		out = out[:q.Limit]
		next = out[len(out)-1].ID
	}
	return out, next, nil
}
