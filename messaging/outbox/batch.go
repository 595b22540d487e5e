package outbox

import (
	"context"
	"encoding/json"
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
	read     int  // rows read, ready to publish
	done     int  // rows the broker acknowledged
	setAside int  // rows set aside: the broker refuses them for good
	retry    bool // some rows failed for a passing reason and stay queued
	heldBack bool // rows wait for an older transaction
	// blocker is the transaction id of the first row held back: the rows
	// from it on wait until every transaction up to it has ended.
	blocker string
}

// relayBatch publishes the ready prefix of the unpublished rows, marks
// what the broker took as published and sets aside what it refuses for
// good, so that one bad row never holds the rows behind it.
func (r *Relay) relayBatch(ctx context.Context, l *lease) (batchResult, error) {
	t0 := time.Now()
	batch, blocker, err := r.readBatch(ctx, l)
	heldBack := blocker != ""
	if err != nil || len(batch) == 0 {
		r.cfg.Logger.Debug("relay pass", "ready", 0, "held_back", heldBack, "read_ms", ms(time.Since(t0)))
		return batchResult{heldBack: heldBack, blocker: blocker}, err
	}
	res := batchResult{read: len(batch), heldBack: heldBack, blocker: blocker}
	t1 := time.Now()
	out, err := r.send(ctx, l, batch)
	if err != nil {
		return res, err
	}
	t2 := time.Now()
	defer func() {
		r.cfg.Logger.Debug("relay pass", "ready", len(batch), "held_back", heldBack, "read_ms", ms(t1.Sub(t0)),
			"publish_ms", ms(t2.Sub(t1)), "mark_ms", ms(time.Since(t2)))
	}()
	if len(out.published) > 0 {
		// A row is published once its id has left the queue (and it was
		// not set aside): the row itself is not written again.
		if err := l.exec(ctx, `DELETE FROM outbox_pending WHERE id = ANY($1)`, out.published); err != nil {
			return res, fmt.Errorf("mark published: %w", err)
		}
	}
	if err := r.setAside(ctx, l, out.refused); err != nil {
		return res, err
	}
	res.done, res.setAside, res.retry = len(out.published), len(out.refused), out.retry
	r.sinceVacuum += res.done + res.setAside
	if r.cfg.OnPublished != nil && res.done > 0 {
		r.cfg.OnPublished(res.done)
	}
	if r.cfg.OnSetAside != nil && res.setAside > 0 {
		r.cfg.OnSetAside(res.setAside)
	}
	return res, nil
}

// readBatch reads the ready prefix of the queue: rows up to the first one
// whose transaction may still be followed by an older one. Rows past it
// come back without their payload, only to say that something is held
// back: blocker is the transaction id of the first of them ("" if none).
func (r *Relay) readBatch(ctx context.Context, l *lease) (batch []row, blocker string, err error) {
	r.scans.Add(1)
	err = l.query(ctx, func(ctx context.Context, conn *pgx.Conn) error {
		batch, blocker = nil, ""
		rows, err := conn.Query(ctx, `
			SELECT id, ready, CASE WHEN ready THEN topic END, CASE WHEN ready THEN key END,
			       CASE WHEN ready THEN value END, CASE WHEN ready THEN headers END, txid::text
			FROM (SELECT o.id, o.txid, o.topic, o.key, o.value, o.headers,
			             bool_and(o.txid < (SELECT pg_snapshot_xmin(pg_current_snapshot()))) OVER (ORDER BY p.id) AS ready
			      FROM (SELECT id FROM outbox_pending ORDER BY id LIMIT $1) p JOIN outbox o ON o.id = p.id) ranked
			ORDER BY id`, r.cfg.BatchSize)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var rw row
			var ready bool
			var topic, key *string
			var txid string
			if err := rows.Scan(&rw.id, &ready, &topic, &key, &rw.value, &rw.headers, &txid); err != nil {
				return err
			}
			if !ready {
				blocker = txid
				break
			}
			rw.topic, rw.key = *topic, *key
			batch = append(batch, rw)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", fmt.Errorf("select rows: %w", err)
	}
	return batch, blocker, nil
}

// released reports whether every transaction up to blocker has ended, so
// that the rows it held back may be ready: a check that reads no table,
// made on each wake-up while rows wait, in place of reading the queue.
func (r *Relay) released(ctx context.Context, l *lease, blocker string) (bool, error) {
	var done bool
	r.checks.Add(1)
	err := l.query(ctx, func(ctx context.Context, conn *pgx.Conn) error {
		return conn.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot()) > $1::text::xid8`, blocker).Scan(&done)
	})
	if err != nil {
		return false, fmt.Errorf("check held-back rows: %w", err)
	}
	return done, nil
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
// reason, stay queued and retry is set. An error means the lease ran out
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
	var hs map[string]string
	if err := json.Unmarshal(rw.headers, &hs); err != nil {
		return kafka.Message{}, fmt.Errorf("outbox row %d headers: %w", rw.id, err)
	}
	m := kafka.Message{Topic: rw.topic, Key: []byte(rw.key), Value: rw.value}
	for k, v := range hs {
		m.Headers = append(m.Headers, kafka.Header{Key: k, Value: []byte(v)})
	}
	return m, nil
}

// setAside takes refused rows out of the queue and records why, so that
// the rows behind them go out; RetryFailed puts them back.
func (r *Relay) setAside(ctx context.Context, l *lease, refused map[int64]string) error {
	if len(refused) == 0 {
		return nil
	}
	ids, why := make([]int64, 0, len(refused)), make([]string, 0, len(refused))
	for id, e := range refused {
		ids, why = append(ids, id), append(why, e)
		r.cfg.Logger.Error("outbox row set aside: the broker refuses it", "component", "outbox-relay", "row", id, "err", e)
	}
	err := l.exec(ctx, `WITH gone AS (DELETE FROM outbox_pending WHERE id = ANY($1))
		UPDATE outbox o SET failed_at = now(), error = f.error
		FROM unnest($1::bigint[], $2::text[]) AS f(id, error) WHERE o.id = f.id`, ids, why)
	if err != nil {
		return fmt.Errorf("set aside: %w", err)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
