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
	batch := &pgx.Batch{}
	fresh, read := QueueClaim(batch, ids, topics)
	br := tx.SendBatch(ctx, batch)
	err := read(br)
	if cerr := br.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("inbox: claim: %w", cerr)
	}
	return fresh, err
}

// QueueClaim adds Claim's statement to batch, for a caller that sends it
// with statements of its own in one round trip. fresh holds the ids not
// recorded before once read, which must be called first on the batch's
// results, has read the statement's.
func QueueClaim(batch *pgx.Batch, ids []uuid.UUID, topics []string) (fresh map[uuid.UUID]bool, read func(pgx.BatchResults) error) {
	fresh = make(map[uuid.UUID]bool, len(ids))
	batch.Queue(`INSERT INTO inbox (message_id, topic) SELECT * FROM unnest($1::uuid[], $2::text[])
		ON CONFLICT (message_id) DO NOTHING RETURNING message_id`, ids, topics)
	return fresh, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return fmt.Errorf("inbox: claim: %w", err)
		}
		claimed, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return fmt.Errorf("inbox: claim: %w", err)
		}
		for _, id := range claimed {
			fresh[id] = true
		}
		return nil
	}
}

// Purge deletes records older than retention and returns how many it removed.
func Purge(ctx context.Context, pool *pgxpool.Pool, retention time.Duration) (int64, error) {
	tag, err := pool.Exec(ctx, `DELETE FROM inbox WHERE received_at < now() - make_interval(secs => $1)`, retention.Seconds())
	if err != nil {
		return 0, fmt.Errorf("inbox: purge: %w", err)
	}
	return tag.RowsAffected(), nil
}
