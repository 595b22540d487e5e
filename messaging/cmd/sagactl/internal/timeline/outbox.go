package timeline

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// outboxRow is an outbox row of the saga.
type outboxRow struct {
	id          int64
	topic       string
	typ, msgID  string
	traceparent string
	createdAt   time.Time
	published   bool
	failedAt    *time.Time
	failure     string
}

// loadOutbox adds the outbox rows of database name keyed by the order id.
// Published rows stay until the purge (OUTBOX_RETENTION): when the
// database's oldest row is younger than the order, its rows may be gone,
// and the notes say so.
func (tl *Timeline) loadOutbox(ctx context.Context, name string, pool *pgxpool.Pool, published map[string]string) error {
	if pool == nil {
		return tl.note(ctx, "%s database not given: its outbox is not shown", name)
	}
	var since time.Time
	if tl.Order != nil {
		since = tl.Order.CreatedAt.Add(-outboxSlack)
	}
	rows, err := readOutbox(ctx, pool, tl.OrderID, since)
	if err != nil {
		return tl.note(ctx, "%s database: %v", name, err)
	}
	source := name + "db outbox"
	for _, r := range rows {
		tl.sawTraceparent(r.traceparent)
		e := Event{At: r.createdAt, Kind: KindOutbox, Source: source, Where: fmt.Sprintf("row %d", r.id), What: r.typ, MessageID: r.msgID}
		switch {
		case r.failedAt != nil:
			e.Detail = fmt.Sprintf("to %s, set aside at %s: %s", r.topic, r.failedAt.UTC().Format(TimeFormat), r.failure)
		case !r.published:
			e.Detail = fmt.Sprintf("to %s, not yet published", r.topic)
		case published[r.msgID] != "":
			e.Detail = fmt.Sprintf("published: %s", published[r.msgID])
		default:
			e.Detail = fmt.Sprintf("published to %s", r.topic)
		}
		tl.Events = append(tl.Events, e)
	}
	purged, oldest, err := purgedBefore(ctx, pool)
	if err != nil {
		return tl.note(ctx, "%s database: %v", name, err)
	}
	if purged && tl.Order != nil && (oldest.IsZero() || oldest.After(tl.Order.CreatedAt)) {
		if len(rows) == 0 {
			return tl.note(ctx, "%sdb outbox: no rows left for this saga: published rows are purged after OUTBOX_RETENTION", name)
		}
		return tl.note(ctx, "%sdb outbox: rows written before %s have been purged (OUTBOX_RETENTION): some of this saga's may be gone", name, oldest.UTC().Format(TimeFormat))
	}
	return nil
}

// outboxSlack is how much earlier than its order a saga's outbox row may
// say it was written: the databases' clocks may differ that much.
const outboxSlack = 5 * time.Minute

// readOutbox reads the outbox rows keyed by id, oldest first. The outbox
// has no index on the key (one would cost every write): with the order's
// time (since), it reads the rows written from then on through the index
// on created_at, which a recent saga's page finds near the table's end;
// without it, the whole table, which the purge keeps to
// OUTBOX_RETENTION's worth.
func readOutbox(ctx context.Context, pool *pgxpool.Pool, id string, since time.Time) ([]outboxRow, error) {
	query := `
		SELECT o.id, o.topic, coalesce(o.headers->>'type', ''), coalesce(o.headers->>'message-id', ''),
		       coalesce(o.headers->>'traceparent', ''), o.created_at,
		       o.id <= r.published_to AND o.failed_at IS NULL, o.failed_at, coalesce(o.error, '')
		FROM outbox o, outbox_relay r WHERE o.key = $1`
	args := []any{id}
	if !since.IsZero() {
		query += ` AND o.created_at >= $2`
		args = append(args, since)
	}
	rows, err := pool.Query(ctx, query+` ORDER BY o.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (outboxRow, error) {
		var r outboxRow
		err := row.Scan(&r.id, &r.topic, &r.typ, &r.msgID, &r.traceparent, &r.createdAt, &r.published, &r.failedAt, &r.failure)
		return r, err
	})
}

// purgedBefore reports whether rows were deleted from the outbox (the
// purge, or a retry of a row set aside: ids start at 1 and are never
// handed out twice) and when the oldest row left was written (zero when
// none is left).
func purgedBefore(ctx context.Context, pool *pgxpool.Pool) (bool, time.Time, error) {
	var at *time.Time
	var minID *int64
	var used bool
	err := pool.QueryRow(ctx, `SELECT min(created_at), min(id), (SELECT is_called FROM outbox_id_seq) FROM outbox`).Scan(&at, &minID, &used)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("outbox: %w", err)
	}
	if at == nil {
		return used, time.Time{}, nil
	}
	return *minID > 1, *at, nil
}
