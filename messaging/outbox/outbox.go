// Package outbox writes messages into the caller's transaction and relays
// committed rows to Kafka: the transactional outbox of SPEC section 7.
//
// Rows are published in id order, and only while every transaction that
// could still add a lower id has finished: a row is eligible when its
// transaction id is below the snapshot's xmin
// (pg_snapshot_xmin(pg_current_snapshot())), and the relay stops at the
// first row that is not, so a transaction that commits late is never
// skipped and never overtaken.
package outbox

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/messaging/trace"
)

// Channel is the LISTEN/NOTIFY channel that wakes the relay.
const Channel = "outbox"

// Record is one message to publish.
type Record struct {
	Topic   string
	Key     string
	Message envelope.Message
	// Headers are added to message-id, type and traceparent, which Write sets.
	Headers map[string]string
}

// Write inserts records into tx, and their ids into the relay's queue, in
// one statement, and notifies the relay when tx commits. The traceparent
// header continues the trace carried by ctx.
//
// In a transaction whose context carries postgres.TxHooks (a consumer's
// batch, say), Write keeps the records and inserts them, with every other
// record written in that transaction and in the same order, in one
// statement just before the commit (postgres.BeforeCommitLast): a batch
// of a hundred messages costs one insert and one notification, not a
// hundred of each.
func Write(ctx context.Context, tx pgx.Tx, records ...Record) error {
	if len(records) == 0 {
		return nil
	}
	rs, err := encode(ctx, records)
	if err != nil {
		return err
	}
	if writeBehind(ctx, tx, rs) {
		return nil
	}
	return rs.write(ctx, tx)
}

// Queue adds what Write does to batch, for a caller that sends it with
// statements of its own in one round trip.
func Queue(ctx context.Context, batch *pgx.Batch, records ...Record) error {
	if len(records) == 0 {
		return nil
	}
	rs, err := encode(ctx, records)
	if err != nil {
		return err
	}
	rs.queue(batch)
	return nil
}

// rows are records encoded as the columns of the outbox.
type rows struct {
	topics, keys, headers []string
	values                [][]byte
}

func encode(ctx context.Context, records []Record) (rows, error) {
	n := len(records)
	rs := rows{topics: make([]string, n), keys: make([]string, n), values: make([][]byte, n), headers: make([]string, n)}
	for i, r := range records {
		value, err := r.Message.Encode()
		if err != nil {
			return rows{}, fmt.Errorf("outbox: encode %s: %w", r.Message.Type, err)
		}
		hs := map[string]string{
			envelope.HeaderMessageID:   r.Message.ID.String(),
			envelope.HeaderType:        r.Message.Type,
			envelope.HeaderTraceparent: trace.Header(ctx),
		}
		for k, v := range r.Headers {
			hs[k] = v
		}
		hj, err := json.Marshal(hs)
		if err != nil {
			return rows{}, fmt.Errorf("outbox: encode headers: %w", err)
		}
		rs.topics[i], rs.keys[i], rs.values[i], rs.headers[i] = r.Topic, r.Key, value, string(hj)
	}
	return rs, nil
}

func (rs *rows) append(more rows) {
	rs.topics = append(rs.topics, more.topics...)
	rs.keys = append(rs.keys, more.keys...)
	rs.values = append(rs.values, more.values...)
	rs.headers = append(rs.headers, more.headers...)
}

func (rs rows) queue(batch *pgx.Batch) {
	// unnest yields the records in order, so their ids follow it.
	batch.Queue(`WITH rows AS (
			INSERT INTO outbox (topic, key, value, headers)
			SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::jsonb[]) RETURNING id)
		INSERT INTO outbox_pending SELECT id FROM rows`, rs.topics, rs.keys, rs.values, rs.headers)
	batch.Queue(`SELECT pg_notify($1, '')`, Channel)
}

func (rs rows) write(ctx context.Context, tx pgx.Tx) error {
	batch := &pgx.Batch{}
	rs.queue(batch)
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("outbox: insert: %w", err)
	}
	return nil
}

// writeBehind keeps rs for the commit of tx when ctx carries its hooks,
// and reports whether it did.
func writeBehind(ctx context.Context, tx pgx.Tx, rs rows) bool {
	pending := postgres.PendingLast(ctx, "outbox", func(ctx context.Context, pending *rows) error {
		return pending.write(ctx, tx)
	})
	if pending == nil {
		return false
	}
	pending.append(rs)
	return true
}

// NewRecord builds the record of a new message of type typ about saga
// sagaID, keyed by the saga id, on topic.
func NewRecord(topic, typ, sagaID string, data any) (Record, error) {
	m, err := envelope.New(typ, sagaID, data)
	if err != nil {
		return Record{}, err
	}
	return Record{Topic: topic, Key: sagaID, Message: m}, nil
}

// Send writes one new message (see NewRecord) into tx.
func Send(ctx context.Context, tx pgx.Tx, topic, typ, sagaID string, data any) error {
	r, err := NewRecord(topic, typ, sagaID, data)
	if err != nil {
		return err
	}
	return Write(ctx, tx, r)
}
