package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Purge deletes rows published more than retention ago and returns how
// many it removed. Unpublished rows are never purged.
func Purge(ctx context.Context, pool *pgxpool.Pool, retention time.Duration) (int64, error) {
	tag, err := pool.Exec(ctx,
		`DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1)`, retention.Seconds())
	if err != nil {
		return 0, fmt.Errorf("outbox: purge: %w", err)
	}
	return tag.RowsAffected(), nil
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
		SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8
		FROM outbox WHERE published_at IS NULL`).Scan(&s.Unpublished, &ageSeconds)
	if err != nil {
		return Status{}, fmt.Errorf("outbox: status: %w", err)
	}
	s.OldestAge = time.Duration(ageSeconds * float64(time.Second))
	return s, nil
}
