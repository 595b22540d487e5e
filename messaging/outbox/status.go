package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Status is the backlog of one database's outbox.
type Status struct {
	Unpublished int64
	// OldestAge is the age of the oldest unpublished row, zero when none.
	OldestAge time.Duration
	// Failed counts the rows set aside because the broker refuses them;
	// RetryFailed queues them again.
	Failed int64
}

// ReadStatus reports the unpublished rows, the oldest one's age and the
// rows set aside.
func ReadStatus(ctx context.Context, pool *pgxpool.Pool) (Status, error) {
	var s Status
	var ageSeconds float64
	err := pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM outbox_pending),
		       COALESCE((SELECT EXTRACT(EPOCH FROM now() - min(o.created_at))
		                 FROM outbox_pending p JOIN outbox o ON o.id = p.id), 0)::float8,
		       (SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL)`).Scan(&s.Unpublished, &ageSeconds, &s.Failed)
	if err != nil {
		return Status{}, fmt.Errorf("outbox: status: %w", err)
	}
	s.OldestAge = time.Duration(ageSeconds * float64(time.Second))
	return s, nil
}

// RetryFailed puts rows that were set aside back in the relay's queue (all
// of them when ids is empty) and returns how many it queued. Their order
// among the queued rows is their original id, so they go out first.
func RetryFailed(ctx context.Context, pool *pgxpool.Pool, ids []int64) (int64, error) {
	var n int64
	err := pool.QueryRow(ctx, `
		WITH retried AS (
			UPDATE outbox SET failed_at = NULL, error = NULL
			WHERE failed_at IS NOT NULL AND (coalesce(cardinality($1::bigint[]), 0) = 0 OR id = ANY($1))
			RETURNING id),
		queued AS (INSERT INTO outbox_pending SELECT id FROM retried ON CONFLICT DO NOTHING RETURNING id)
		SELECT count(*) FROM queued`, ids).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("outbox: retry failed rows: %w", err)
	}
	if n > 0 {
		if _, err := pool.Exec(ctx, `SELECT pg_notify($1, '')`, Channel); err != nil {
			return n, fmt.Errorf("outbox: wake the relay: %w", err)
		}
	}
	return n, nil
}

// Failed is a row set aside because the broker refuses it.
type Failed struct {
	ID       int64
	Topic    string
	Key      string
	Bytes    int
	FailedAt time.Time
	Error    string
}

// ListFailed returns up to limit rows set aside, oldest first.
func ListFailed(ctx context.Context, pool *pgxpool.Pool, limit int) ([]Failed, error) {
	rows, err := pool.Query(ctx, `SELECT id, topic, left(key, 200), octet_length(value), failed_at, error
		FROM outbox WHERE failed_at IS NOT NULL ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox: list failed rows: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Failed, error) {
		var f Failed
		err := r.Scan(&f.ID, &f.Topic, &f.Key, &f.Bytes, &f.FailedAt, &f.Error)
		return f, err
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: list failed rows: %w", err)
	}
	return out, nil
}
