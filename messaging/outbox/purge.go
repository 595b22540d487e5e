package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// purgeChunk bounds the rows one purge statement deletes, so that a large
// backlog is removed in short transactions.
const purgeChunk = 10000

// Purge deletes published rows written more than retention ago and returns
// how many it removed. Unpublished rows are never purged.
func Purge(ctx context.Context, pool *pgxpool.Pool, retention time.Duration) (int64, error) {
	var total int64
	for {
		tag, err := pool.Exec(ctx, `DELETE FROM outbox WHERE id IN (
			SELECT id FROM outbox WHERE created_at < now() - make_interval(secs => $1) AND published_at IS NOT NULL LIMIT $2)`,
			retention.Seconds(), purgeChunk)
		if err != nil {
			return total, fmt.Errorf("outbox: purge: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < purgeChunk {
			return total, nil
		}
	}
}

// Status is the backlog of one database's outbox.
type Status struct {
	Unpublished int64
	// OldestAge is the age of the oldest unpublished row, zero when none.
	OldestAge time.Duration
}

// ReadStatus reports the unpublished rows and the oldest one's age.
func ReadStatus(ctx context.Context, pool *pgxpool.Pool) (Status, error) {
	var s Status
	var ageSeconds float64
	err := pool.QueryRow(ctx, `
		SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(o.created_at)), 0)::float8
		FROM outbox_pending p JOIN outbox o ON o.id = p.id`).Scan(&s.Unpublished, &ageSeconds)
	if err != nil {
		return Status{}, fmt.Errorf("outbox: status: %w", err)
	}
	s.OldestAge = time.Duration(ageSeconds * float64(time.Second))
	return s, nil
}
