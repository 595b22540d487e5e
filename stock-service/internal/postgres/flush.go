package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/outbox"
	msgpg "github.com/purchase-saga/messaging/postgres"

	"github.com/purchase-saga/stock-service/internal/stock"
)

// flushBeforeCommit has flush write b's changes just before the
// transaction commits, once however many commands changed it.
func (s *Store) flushBeforeCommit(ctx context.Context, b *batch) {
	msgpg.BeforeCommit(ctx, "stock batch", func(ctx context.Context) error { return s.flush(ctx, b) })
}

// flush writes what b's commands changed in one round trip: the changed
// items' reserved units, as absolute values (the rows have been locked by
// this transaction since it read them), the new reservations and new
// statuses, and the outbox rows of the batch so far, its replies and the
// changed items' snapshots, in one statement (outbox.QueuePending).
func (s *Store) flush(ctx context.Context, b *batch) error {
	var steps []step
	snapshots := make([]outbox.Record, len(b.changedItems))
	if n := len(b.changedItems); n > 0 {
		ids, reserved := make([]string, n), make([]int64, n)
		for i, id := range b.changedItems {
			it := b.items[id]
			ids[i], reserved[i] = id, it.Reserved
			r, err := snapshot(b.sagaOf[id], it)
			if err != nil {
				return err
			}
			snapshots[i] = r
		}
		steps = append(steps, step{"update items", n, `UPDATE items i SET reserved = v.reserved, updated_at = now()
			FROM unnest($1::text[], $2::bigint[]) AS v(id, reserved) WHERE i.id = v.id`, []any{ids, reserved}})
	}
	if n := len(b.changedReservations); n > 0 {
		ids, statuses, lines := make([]string, n), make([]string, n), make([]string, n)
		for i, id := range b.changedReservations {
			r := b.reservations[id]
			ls := r.Lines
			if ls == nil {
				ls = []stock.Line{} // a tombstone's, stored as the column's default '[]'
			}
			j, err := json.Marshal(ls)
			if err != nil {
				return fmt.Errorf("postgres: encode lines of %s: %w", id, err)
			}
			ids[i], statuses[i], lines[i] = id, string(r.Status), string(j)
		}
		// Released and Cancelled are final: only a Reserved row may change.
		steps = append(steps, step{"write reservations", n, `INSERT INTO reservations (order_id, status, lines)
			SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])
			ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, updated_at = now()
			WHERE reservations.status = $4`, []any{ids, statuses, lines, stock.Reserved}})
	}
	b.changedItems, b.sagaOf, b.changedReservations, b.unwritten = nil, map[string]string{}, nil, map[string]bool{}
	if err := s.writeSnapshots(ctx, snapshots...); err != nil {
		return err
	}
	return s.send(ctx, steps)
}

// step is one statement of a flush, named for errors, and the number of
// rows it must change.
type step struct {
	op   string
	rows int
	sql  string
	args []any
}

// send runs steps, and the outbox rows the transaction keeps so far (its
// replies and snapshots), in one round trip, and names the first step that
// failed or changed fewer rows than it had to.
func (s *Store) send(ctx context.Context, steps []step) error {
	q := &pgx.Batch{}
	for _, st := range steps {
		q.Queue(st.sql, st.args...)
	}
	outbox.QueuePending(ctx, q)
	if q.Len() == 0 {
		return nil
	}
	br := s.tx.SendBatch(ctx, q)
	defer br.Close()
	for _, st := range steps {
		tag, err := br.Exec()
		if err != nil {
			return translate("write batch: "+st.op, err)
		}
		if n := tag.RowsAffected(); n != int64(st.rows) {
			return fmt.Errorf("postgres: write batch: %s: %d of %d rows changed", st.op, n, st.rows)
		}
	}
	if err := br.Close(); err != nil {
		return translate("write batch", err)
	}
	return nil
}
