package outbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/dlt"
)

type row struct {
	id      int64
	topic   string
	key     string
	value   []byte
	headers []byte
}

// batchResult is what one pass of the relay did.
type batchResult struct {
	read     int  // rows read, all ready to publish
	done     int  // rows the broker acknowledged
	setAside int  // rows set aside: the broker refuses them for good
	retry    bool // some rows failed for a passing reason and go out again
}

// relayBatch publishes the rows above the relay's position, sets aside
// what the broker refuses for good, so that one bad row never holds the
// rows behind it, and moves the position past the rows dealt with.
func (r *Relay) relayBatch(ctx context.Context, l *lease) (batchResult, error) {
	t0 := time.Now()
	batch, err := r.readBatch(ctx, l)
	if err != nil || len(batch) == 0 {
		r.cfg.Logger.Debug("relay pass", "ready", 0, "read_ms", ms(time.Since(t0)))
		return batchResult{}, err
	}
	res := batchResult{read: len(batch)}
	t1 := time.Now()
	out, err := r.send(ctx, l, batch)
	if err != nil {
		return res, err
	}
	t2 := time.Now()
	defer func() {
		r.cfg.Logger.Debug("relay pass", "ready", len(batch), "read_ms", ms(t1.Sub(t0)),
			"publish_ms", ms(t2.Sub(t1)), "mark_ms", ms(time.Since(t2)))
	}()
	r.position = advance(r.position, batch, out)
	if len(out.refused) > 0 || time.Since(r.recordedAt) >= r.cfg.RecordInterval {
		if err := r.record(ctx, l, out.refused); err != nil {
			return res, err
		}
	}
	res.done, res.setAside, res.retry = len(out.published), len(out.refused), out.retry
	if r.cfg.OnPublished != nil && res.done > 0 {
		r.cfg.OnPublished(res.done)
	}
	if r.cfg.OnSetAside != nil && res.setAside > 0 {
		r.cfg.OnSetAside(res.setAside)
	}
	return res, nil
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

// sent sorts a batch's rows by what the broker said.
type sent struct {
	published []int64
	refused   map[int64]string // row id → why the broker refuses it
	retry     bool
}

// send publishes batch within the lease. Rows the broker acknowledges are
// published; rows it refuses for good (too large, an invalid topic) are
// refused, each one sent alone first, since a broker refuses a whole
// partition's batch for one bad record; the rest, failed for a passing
// reason, go out again next pass and retry is set. An error means the lease ran out
// or ctx ended, and nothing is known.
func (r *Relay) send(ctx context.Context, l *lease, batch []row) (sent, error) {
	out := sent{refused: map[int64]string{}}
	var msgs []kafka.Message
	var ids []int64
	rows := make(map[int64]row, len(batch))
	for _, rw := range batch {
		rows[rw.id] = rw
		m, err := toMessage(rw)
		if err == nil && dlt.Size(m) > r.cfg.MaxMessageBytes {
			err = fmt.Errorf("message of %d bytes exceeds the %d-byte limit", dlt.Size(m), r.cfg.MaxMessageBytes)
		}
		if err != nil {
			out.refused[rw.id] = err.Error()
			continue
		}
		msgs, ids = append(msgs, m), append(ids, rw.id)
	}
	errs, err := r.publish(ctx, l, msgs)
	if err != nil {
		return out, err
	}
	var suspects []int
	for i, err := range errs {
		switch {
		case err == nil:
			out.published = append(out.published, ids[i])
		case broker.IsRefused(err) && len(msgs) == 1:
			out.refused[ids[i]] = err.Error()
		case broker.IsRefused(err):
			suspects = append(suspects, i)
		default:
			out.retry = true
		}
	}
	for _, i := range suspects {
		alone, err := r.send(ctx, l, []row{rows[ids[i]]})
		if err != nil {
			return out, err
		}
		out.published = append(out.published, alone.published...)
		for id, why := range alone.refused {
			out.refused[id] = why
		}
		out.retry = out.retry || alone.retry
	}
	return out, nil
}

// publish sends msgs with a deadline at the lease's end and returns each
// message's error (all nil on success). Only an expired lease or ctx
// returns an error.
func (r *Relay) publish(ctx context.Context, l *lease, msgs []kafka.Message) ([]error, error) {
	errs := make([]error, len(msgs))
	if len(msgs) == 0 {
		return errs, nil
	}
	pctx, cancel, err := l.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	err = r.cfg.Publisher.WriteMessages(pctx, msgs...)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var werrs kafka.WriteErrors
	var tooLarge kafka.MessageTooLargeError
	switch {
	case err == nil:
	case errors.As(err, &werrs) && len(werrs) == len(msgs):
		copy(errs, werrs)
	case errors.As(err, &tooLarge) && len(msgs) == 1:
		errs[0] = err
	case errors.As(err, &tooLarge):
		// Nothing was sent: the writer checks sizes first. Name the culprit
		// refused and the rest as failed for now, to be sent again.
		for i := range msgs {
			errs[i] = errRetry
			if sameMessage(msgs[i], tooLarge.Message) {
				errs[i] = err
			}
		}
	default:
		for i := range errs {
			errs[i] = err
		}
	}
	if err != nil {
		r.cfg.Logger.Warn("relay publish failed", "component", "outbox-relay", "rows", len(msgs), "err", err)
	}
	return errs, nil
}

// errRetry marks a message that was not sent because of another.
var errRetry = errors.New("not sent: another message of the batch was refused")

func sameMessage(a, b kafka.Message) bool {
	return a.Topic == b.Topic && string(a.Key) == string(b.Key) && string(a.Value) == string(b.Value)
}

func toMessage(rw row) (kafka.Message, error) {
	hs, err := decodeHeaders(rw.headers)
	if err != nil {
		return kafka.Message{}, fmt.Errorf("outbox row %d %w", rw.id, err)
	}
	return kafka.Message{Topic: rw.topic, Key: []byte(rw.key), Value: rw.value, Headers: hs}, nil
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

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
