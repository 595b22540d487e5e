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

// Claim records id as consumed from topic inside tx. It returns false when
// the id was already recorded, in which case the caller must not apply the
// message again. A concurrent claim of the same id waits for the other
// transaction and then reports false if it committed.
func Claim(ctx context.Context, tx pgx.Tx, id uuid.UUID, topic string) (bool, error) {
	tag, err := tx.Exec(ctx,
		`INSERT INTO inbox (message_id, topic) VALUES ($1, $2) ON CONFLICT (message_id) DO NOTHING`, id, topic)
	if err != nil {
		return false, fmt.Errorf("inbox: claim %s: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Purge deletes records older than retention and returns how many it removed.
func Purge(ctx context.Context, pool *pgxpool.Pool, retention time.Duration) (int64, error) {
	tag, err := pool.Exec(ctx, `DELETE FROM inbox WHERE received_at < now() - make_interval(secs => $1)`, retention.Seconds())
	if err != nil {
		return 0, fmt.Errorf("inbox: purge: %w", err)
	}
	return tag.RowsAffected(), nil
}
