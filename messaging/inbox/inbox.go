// Package inbox records consumed message ids in the consumer's own
// transaction, so that a message delivered twice has one effect.
package inbox

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Claim records the ids of a batch as consumed, in tx, with the topic each
// came from, and returns those that were not recorded before: only they
// may be applied. An id already recorded, or recorded by a concurrent
// transaction that commits, is left out. One statement serves the whole
// batch.
func Claim(ctx context.Context, tx pgx.Tx, ids []uuid.UUID, topics []string) (map[uuid.UUID]bool, error) {
	rows, err := tx.Query(ctx, `INSERT INTO inbox (message_id, topic) SELECT * FROM unnest($1::uuid[], $2::text[])
		ON CONFLICT (message_id) DO NOTHING RETURNING message_id`, ids, topics)
	if err != nil {
		return nil, fmt.Errorf("inbox: claim: %w", err)
	}
	fresh := make(map[uuid.UUID]bool, len(ids))
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("inbox: claim: %w", err)
		}
		fresh[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inbox: claim: %w", err)
	}
	return fresh, nil
}

// Purge deletes records older than retention and returns how many it removed.
func Purge(ctx context.Context, pool *pgxpool.Pool, retention time.Duration) (int64, error) {
	tag, err := pool.Exec(ctx, `DELETE FROM inbox WHERE received_at < now() - make_interval(secs => $1)`, retention.Seconds())
	if err != nil {
		return 0, fmt.Errorf("inbox: purge: %w", err)
	}
	return tag.RowsAffected(), nil
}
