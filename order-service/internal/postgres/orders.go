package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/order-service/internal/order"
)

// Orders reads orders, in a transaction (Tx) or on the pool (Store).
type Orders struct {
	q querier
}

// ErrDuplicateKey reports an idempotency key that is already taken.
var ErrDuplicateKey = errors.New("postgres: idempotency key exists")

// The steps column is one JSON object keyed by step name, each step
// {status, reason, updated_at} (order.Steps), so that a step added to the
// saga needs no new column.
const orderColumns = `id, customer_id, lines, amount_cents, currency, status, failure_reason,
	steps, created_at, updated_at, deadline, traceparent`

func scanOrder(row pgx.Row) (order.Order, error) {
	var o order.Order
	var lines, steps []byte
	err := row.Scan(&o.ID, &o.CustomerID, &lines, &o.AmountCents, &o.Currency, &o.Status, &o.FailureReason,
		&steps, &o.CreatedAt, &o.UpdatedAt, &o.Deadline, &o.Traceparent)
	if errors.Is(err, pgx.ErrNoRows) {
		return order.Order{}, order.ErrNotFound
	}
	if err != nil {
		return order.Order{}, fmt.Errorf("postgres: scan order: %w", err)
	}
	if err := json.Unmarshal(lines, &o.Lines); err != nil {
		return order.Order{}, fmt.Errorf("postgres: order %s lines: %w", o.ID, err)
	}
	// Called directly: json.Unmarshal would first scan the text once more.
	if err := o.Steps.UnmarshalJSON(steps); err != nil {
		return order.Order{}, fmt.Errorf("postgres: order %s steps: %w", o.ID, err)
	}
	return o, nil
}

// NewOrder is an order to insert with the idempotency key and request
// hash it was placed with.
type NewOrder struct {
	Order          order.Order
	IdempotencyKey string
	RequestHash    string
}

// queueInsert adds OrdersTx.Insert's statement to batch; the map it
// returns holds the inserted ids once the batch has run. The orders go in
// in idempotency-key order: two transactions inserting the same keys (a
// client's retry in another group) then wait for each other in one
// direction only, never in a cycle (a deadlock).
func queueInsert(batch *pgx.Batch, os []NewOrder) (map[string]bool, error) {
	os = slices.SortedStableFunc(slices.Values(os), func(a, b NewOrder) int {
		return strings.Compare(a.IdempotencyKey, b.IdempotencyKey)
	})
	n := len(os)
	ids, customers, currencies, statuses, reasons := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	lines, steps := make([]string, n), make([]string, n)
	amounts := make([]int64, n)
	created, updated, deadlines := make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
	keys, hashes, traceparents := make([]*string, n), make([]string, n), make([]string, n)
	for i, no := range os {
		o := no.Order
		b, err := json.Marshal(o.Lines)
		if err != nil {
			return nil, fmt.Errorf("postgres: encode lines: %w", err)
		}
		s, err := o.Steps.MarshalJSON() // json.Marshal would check and copy it again
		if err != nil {
			return nil, fmt.Errorf("postgres: encode steps: %w", err)
		}
		ids[i], customers[i], lines[i], amounts[i], currencies[i] = o.ID, o.CustomerID, string(b), o.AmountCents, o.Currency
		statuses[i], reasons[i], steps[i] = string(o.Status), o.FailureReason, string(s)
		created[i], updated[i], deadlines[i] = o.CreatedAt, o.UpdatedAt, o.Deadline
		if no.IdempotencyKey != "" {
			keys[i] = &no.IdempotencyKey
		}
		hashes[i], traceparents[i] = no.RequestHash, o.Traceparent
	}
	inserted := make(map[string]bool, n)
	batch.Queue(`INSERT INTO orders (id, customer_id, lines, amount_cents, currency, status, failure_reason,
		steps, created_at, updated_at, deadline, idempotency_key, request_hash, traceparent)
		SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::bigint[], $5::text[], $6::text[], $7::text[],
			$8::jsonb[], $9::timestamptz[], $10::timestamptz[], $11::timestamptz[], $12::text[], $13::text[], $14::text[])
		ON CONFLICT (idempotency_key) DO NOTHING
		RETURNING id::text`,
		ids, customers, lines, amounts, currencies, statuses, reasons,
		steps, created, updated, deadlines, keys, hashes, traceparents).Query(func(rows pgx.Rows) error {
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, id := range ids {
			inserted[id] = true
		}
		return nil
	})
	return inserted, nil
}

// queueUpdate adds to batch one statement that stores the status,
// failure reason and steps of os (distinct orders), however many.
func queueUpdate(batch *pgx.Batch, os []order.Order) error {
	n := len(os)
	ids, statuses, reasons, steps := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	updated := make([]time.Time, n)
	for i, o := range os {
		s, err := o.Steps.MarshalJSON()
		if err != nil {
			return fmt.Errorf("postgres: encode steps of order %s: %w", o.ID, err)
		}
		ids[i], statuses[i], reasons[i], steps[i] = o.ID, string(o.Status), o.FailureReason, string(s)
		updated[i] = o.UpdatedAt
	}
	batch.Queue(`UPDATE orders o SET status = v.status, failure_reason = v.reason, steps = v.steps,
		updated_at = v.updated_at
		FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::timestamptz[])
			AS v(id, status, reason, steps, updated_at)
		WHERE o.id = v.id`,
		ids, statuses, reasons, steps, updated)
	return nil
}

// Get reads an order; order.ErrNotFound when there is none.
func (r Orders) Get(ctx context.Context, id string) (order.Order, error) {
	return scanOrder(r.q.QueryRow(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = $1`, id))
}

// ByIdempotencyKeys returns the orders placed with keys, by key, each with
// the hash of the request that placed it (NewOrder.RequestHash); keys of
// no order are absent.
func (r Orders) ByIdempotencyKeys(ctx context.Context, keys []string) (map[string]NewOrder, error) {
	rows, err := r.q.Query(ctx, `SELECT idempotency_key, request_hash, `+orderColumns+`
		FROM orders WHERE idempotency_key = ANY($1)`, keys)
	if err != nil {
		return nil, fmt.Errorf("postgres: idempotency keys: %w", err)
	}
	defer rows.Close()
	out := map[string]NewOrder{}
	for rows.Next() {
		var key, hash string
		o, err := scanOrder(prefixed{rows, []any{&key, &hash}})
		if err != nil {
			return nil, fmt.Errorf("postgres: idempotency keys: %w", err)
		}
		out[key] = NewOrder{Order: o, IdempotencyKey: key, RequestHash: hash}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: idempotency keys: %w", err)
	}
	return out, nil
}

// prefixed scans its first columns into before, the rest as asked.
type prefixed struct {
	pgx.Row
	before []any
}

func (p prefixed) Scan(dest ...any) error { return p.Row.Scan(append(p.before, dest...)...) }

// Filter selects orders for List.
type Filter struct {
	CustomerID string
	Status     order.Status
	// After is the id of the last order of the previous page: the next
	// page holds older orders.
	After string
	Limit int
}

// List returns orders matching f newest first (ids being UUIDv7, id order
// is creation order), older than f.After when it is set, at most f.Limit
// of them. Each combination of filters is a statement of its own, so that
// its plan, even a generic one made once for every value, uses the index
// that serves it (read backwards).
func (r Orders) List(ctx context.Context, f Filter) ([]order.Order, error) {
	after := "ffffffff-ffff-ffff-ffff-ffffffffffff"
	if f.After != "" {
		after = f.After
	}
	where, args := "id < $1::uuid", []any{after, f.Limit}
	if f.CustomerID != "" {
		where, args = where+" AND customer_id = $3", append(args, f.CustomerID)
	}
	if f.Status != "" {
		where, args = where+fmt.Sprintf(" AND status = $%d", len(args)+1), append(args, string(f.Status))
	}
	rows, err := r.q.Query(ctx, `SELECT `+orderColumns+` FROM orders WHERE `+where+` ORDER BY id DESC LIMIT $2`, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list orders: %w", err)
	}
	return collect(rows)
}

// collect scans every row into an order and closes rows.
func collect(rows pgx.Rows) ([]order.Order, error) {
	defer rows.Close()
	var out []order.Order
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// InFlight counts the pending orders of the whole deployment and the age
// of the oldest (its deadline less timeout), through the index of pending
// deadlines.
func (r Orders) InFlight(ctx context.Context, timeout time.Duration) (count int64, oldest time.Duration, err error) {
	var seconds float64
	err = r.q.QueryRow(ctx, `SELECT count(*), coalesce(extract(epoch FROM clock_timestamp() - min(deadline)), 0)::float8
		FROM orders WHERE status = 'PENDING'`).Scan(&count, &seconds)
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: orders in flight: %w", err)
	}
	if count == 0 {
		return 0, 0, nil
	}
	return count, max(0, time.Duration(seconds*float64(time.Second))+timeout), nil
}

// UnitsInFlight returns, per item, the units of the pending orders whose
// step named step (the one that reserves stock) has not been answered yet
// (through the index of pending orders).
func (r Orders) UnitsInFlight(ctx context.Context, step string) (map[string]int64, error) {
	rows, err := r.q.Query(ctx, `SELECT l->>'item_id', sum((l->>'quantity')::bigint)::bigint
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
