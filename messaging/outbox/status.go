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
		SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(o.created_at)), 0)::float8,
		       (SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL)
		FROM outbox o WHERE o.id > (SELECT published_to FROM outbox_relay) AND o.failed_at IS NULL`).Scan(&s.Unpublished, &ageSeconds, &s.Failed)
	if err != nil {
		return Status{}, fmt.Errorf("outbox: status: %w", err)
	}
	s.OldestAge = time.Duration(ageSeconds * float64(time.Second))
	return s, nil
}

// RetryFailed queues rows that were set aside again (all of them when ids
// is empty) and returns how many it queued: each is written anew, with its
// message id, behind the rows already waiting, under WriterLock as any
// write, and the row set aside goes.
func RetryFailed(ctx context.Context, pool *pgxpool.Pool, ids []int64) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1), pg_notify($2, '')`, WriterLock, Channel); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `
			WITH retried AS (
				DELETE FROM outbox
				WHERE failed_at IS NOT NULL AND (coalesce(cardinality($1::bigint[]), 0) = 0 OR id = ANY($1))
				RETURNING id, topic, key, value, headers),
			queued AS (
				INSERT INTO outbox (topic, key, value, headers)
				SELECT topic, key, value, headers FROM retried ORDER BY id RETURNING 1)
			SELECT count(*) FROM queued`, ids).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("outbox: retry failed rows: %w", err)
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
