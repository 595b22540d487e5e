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
			SELECT o.id FROM outbox o WHERE o.created_at < now() - make_interval(secs => $1) AND o.failed_at IS NULL
				AND o.id <= (SELECT published_to FROM outbox_relay) LIMIT $2)`,
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
