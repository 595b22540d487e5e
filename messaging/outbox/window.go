package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

type row struct {
	id      int64
	topic   string
	key     string
	value   []byte
	headers []byte
}

// advance returns the position after a pass over batch, which starts just
// above from: the last row of the longest run of rows that were published
// or set aside. A row the broker failed for a passing reason stops it, and
// the rows behind that one, published or not, go out again next pass.
func advance(from int64, batch []row, out sent) int64 {
	published := make(map[int64]bool, len(out.published))
	for _, id := range out.published {
		published[id] = true
	}
	to := from
	for _, rw := range batch {
		if _, refused := out.refused[rw.id]; !published[rw.id] && !refused {
			break
		}
		to = rw.id
	}
	return to
}

// readBatch reads up to a batch of the rows above the relay's position,
// all of them committed and ready (see the package comment), skipping rows
// set aside before an operator retried them.
func (r *Relay) readBatch(ctx context.Context, l *lease) (batch []row, err error) {
	r.scans.Add(1)
	err = l.query(ctx, func(ctx context.Context, conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, `SELECT id, topic, key, value, headers FROM outbox
			WHERE id > $1 AND failed_at IS NULL ORDER BY id LIMIT $2`, r.position, r.cfg.BatchSize)
		if err != nil {
			return err
		}
		batch, err = pgx.CollectRows(rows, func(rs pgx.CollectableRow) (row, error) {
			var rw row
			err := rs.Scan(&rw.id, &rw.topic, &rw.key, &rw.value, &rw.headers)
			return rw, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("select rows: %w", err)
	}
	return batch, nil
}

// readPosition reads how far the relay has published, as a new leader
// starts.
func (r *Relay) readPosition(ctx context.Context, l *lease) error {
	err := l.query(ctx, func(ctx context.Context, conn *pgx.Conn) error {
		return conn.QueryRow(ctx, `SELECT published_to FROM outbox_relay`).Scan(&r.position)
	})
	if err != nil {
		return fmt.Errorf("read the relay's position: %w", err)
	}
	r.recorded, r.recordedAt = r.position, time.Now()
	return nil
}

// record stores the relay's position and sets aside the rows the broker
// refuses, with why, in one statement: the rows behind them go out and
// RetryFailed queues them again. A position never moves back, should a
// deposed leader record after its successor.
func (r *Relay) record(ctx context.Context, l *lease, refused map[int64]string) error {
	ids, why := make([]int64, 0, len(refused)), make([]string, 0, len(refused))
	for id, e := range refused {
		ids, why = append(ids, id), append(why, e)
		r.cfg.Logger.Error("outbox row set aside: the broker refuses it", "component", "outbox-relay", "row", id, "err", e)
	}
	if r.position == r.recorded && len(ids) == 0 {
		r.recordedAt = time.Now()
		return nil
	}
	err := l.exec(ctx, `WITH aside AS (
			UPDATE outbox o SET failed_at = now(), error = f.error
			FROM unnest($2::bigint[], $3::text[]) AS f(id, error) WHERE o.id = f.id)
		UPDATE outbox_relay SET published_to = greatest(published_to, $1)`, r.position, ids, why)
	if err != nil {
		return fmt.Errorf("record the relay's position: %w", err)
	}
	r.recorded, r.recordedAt = r.position, time.Now()
	return nil
}
