package timeline

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/purchase-saga/contract/topic"
)

// Load reads the timeline of order id from src. What a source could not
// give (a database or the broker unreachable or not given, rows purged,
// a scan cut short) is said in the notes; an error comes back only when
// ctx ends.
func Load(ctx context.Context, src Sources, id string) (Timeline, error) {
	tl := Timeline{OrderID: id}
	if err := tl.loadOrder(ctx, src.DBs[OrderDB]); err != nil {
		return tl, err
	}
	published := map[string]string{} // message id -> where it is on its topic
	if err := tl.loadRecords(ctx, src, published); err != nil {
		return tl, err
	}
	for _, name := range DatabaseNames {
		if err := tl.loadOutbox(ctx, name, src.DBs[name], published); err != nil {
			return tl, err
		}
	}
	slices.SortStableFunc(tl.Events, func(a, b Event) int { return a.At.Compare(b.At) })
	tl.TraceIDs = tl.traceIDs()
	return tl, nil
}

// note adds a note unless ctx has ended, which is returned instead.
func (tl *Timeline) note(ctx context.Context, format string, args ...any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tl.Notes = append(tl.Notes, fmt.Sprintf(format, args...))
	return nil
}

func (tl *Timeline) loadOrder(ctx context.Context, pool *pgxpool.Pool) error {
	if pool == nil {
		return tl.note(ctx, "order database not given: the order and its steps are not shown")
	}
	o, err := ReadOrder(ctx, pool, tl.OrderID)
	if errors.Is(err, pgx.ErrNoRows) {
		return tl.note(ctx, "no order %s in the order database", tl.OrderID)
	}
	if err != nil {
		return tl.note(ctx, "order database: %v", err)
	}
	tl.Order = &o
	tl.Events = append(tl.Events, Event{At: o.CreatedAt, Kind: KindOrder, Source: "order", What: "placed",
		Detail: fmt.Sprintf("customer %s, %s, deadline %s", o.CustomerID, Amount(o.AmountCents, o.Currency), o.Deadline.UTC().Format(TimeFormat))})
	for _, s := range o.Steps {
		tl.Events = append(tl.Events, Event{At: s.UpdatedAt, Kind: KindStep, Source: "order", Where: "step " + s.Name,
			What: s.Status, Detail: s.Reason})
	}
	if o.Status != "PENDING" {
		tl.Events = append(tl.Events, Event{At: o.UpdatedAt, Kind: KindOrder, Source: "order", What: strings.ToLower(o.Status), Detail: o.FailureReason})
	}
	return nil
}

// Amount formats minor units with their currency.
func Amount(cents int64, currency string) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, cents/100, cents%100, currency)
}

// orderColumns are read by ReadOrder and ListOrders.
const orderColumns = `id::text, customer_id, lines, amount_cents, currency, status, failure_reason, steps, deadline, created_at, updated_at`

// ReadOrder reads order id (pgx.ErrNoRows when there is none).
func ReadOrder(ctx context.Context, pool *pgxpool.Pool, id string) (Order, error) {
	return scanOrder(pool.QueryRow(ctx, `SELECT `+orderColumns+` FROM orders WHERE id::text = $1`, id))
}

func scanOrder(row pgx.Row) (Order, error) {
	var o Order
	var lines, steps []byte
	err := row.Scan(&o.ID, &o.CustomerID, &lines, &o.AmountCents, &o.Currency, &o.Status, &o.FailureReason, &steps,
		&o.Deadline, &o.CreatedAt, &o.UpdatedAt)
	if err != nil {
		return o, err
	}
	if err := json.Unmarshal(lines, &o.Lines); err != nil {
		return o, fmt.Errorf("order %s lines: %w", o.ID, err)
	}
	byName := map[string]Step{}
	if err := json.Unmarshal(steps, &byName); err != nil {
		return o, fmt.Errorf("order %s steps: %w", o.ID, err)
	}
	for name, s := range byName {
		s.Name = name
		o.Steps = append(o.Steps, s)
	}
	slices.SortFunc(o.Steps, func(a, b Step) int { return cmp.Compare(a.Name, b.Name) })
	return o, nil
}

// sagaTopics are the topics keyed by order id.
func sagaTopics() []string {
	var out []string
	for _, t := range topic.All {
		if t != topic.Items {
			out = append(out, t)
		}
	}
	return out
}

// TimeFormat is how a timeline writes times.
const TimeFormat = "2006-01-02 15:04:05.000"
