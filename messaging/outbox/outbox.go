// Package outbox writes messages into the caller's transaction and relays
// committed rows to Kafka: the transactional outbox of SPEC section 7.
//
// A writer takes a transaction-scoped advisory lock (WriterLock) just
// before it inserts its rows and holds it until it commits or rolls back,
// so row ids are handed out in commit order: while a writer is open no row
// above its ids exists, and every row a snapshot shows above the relay's
// position is committed with all the rows below it. The relay therefore
// publishes in id order, which is commit order (per key and overall),
// never skips a row that commits late, and only remembers how far it got
// (outbox_relay.published_to); a message costs one insert. In a consumer's
// batch the rows are inserted just before the commit (see Write), so the
// lock is held for the insert and the commit only.
package outbox

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"

	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/messaging/trace"
)

// Channel is the LISTEN/NOTIFY channel that wakes the relay.
const Channel = "outbox"

// WriterLock is the transaction-scoped advisory lock every writer holds
// from its insert to its commit, which puts the ids in commit order.
// Another key than the relay's election lock (RelayConfig.LockKey).
const WriterLock int64 = 0x6f7574777269 // "outwri"

// Record is one message to publish.
type Record struct {
	Topic   string
	Key     string
	Message envelope.Message
	// Headers are added to message-id, type and traceparent, which Write
	// sets; a traceparent set here (see Stamp) is kept.
	Headers map[string]string
}

// Write takes WriterLock, inserts records into tx in one statement and
// notifies the relay when tx commits. Each call is an "outbox write" span,
// a child of ctx's span, whose traceparent the rows keep (unless a record
// has one, see Stamp): the relay and the consumers continue it. Without
// hooks (below) the lock is held from here to the end of tx, and later
// outbox writers of the database wait for it: write last, just before the
// commit, and keep the transaction short.
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
// statements of its own in one round trip: queue it last, after the
// statements that lock rows, since WriterLock is held until the commit.
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
	traceparent := ""
	for i, r := range records {
		value, err := r.Message.Encode()
		if err != nil {
			return rows{}, fmt.Errorf("outbox: encode %s: %w", r.Message.Type, err)
		}
		if traceparent == "" && r.Headers[envelope.HeaderTraceparent] == "" {
			traceparent = writeSpan(ctx, records)
		}
		hs := map[string]string{
			envelope.HeaderMessageID:   r.Message.ID.String(),
			envelope.HeaderType:        r.Message.Type,
			envelope.HeaderTraceparent: traceparent,
		}
		for k, v := range r.Headers {
			hs[k] = v
		}
		hj, err := encodeHeaders(hs)
		if err != nil {
			return rows{}, fmt.Errorf("outbox: encode headers: %w", err)
		}
		rs.topics[i], rs.keys[i], rs.values[i], rs.headers[i] = r.Topic, r.Key, value, hj
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
	// The lock comes first: ids are drawn by the insert. The notification
	// is delivered at the commit, whatever its place in the transaction.
	batch.Queue(`SELECT pg_advisory_xact_lock($1), pg_notify($2, '')`, WriterLock, Channel)
	// unnest yields the records in order, so their ids follow it.
	batch.Queue(`INSERT INTO outbox (topic, key, value, headers)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::jsonb[])`, rs.topics, rs.keys, rs.values, rs.headers)
}

func (rs rows) write(ctx context.Context, tx pgx.Tx) error {
	if len(rs.topics) == 0 {
		return nil // taken by QueuePending
	}
	batch := &pgx.Batch{}
	rs.queue(batch)
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("outbox: insert: %w", err)
	}
	return nil
}

// QueuePending moves the records that Write keeps for the commit of the
// transaction whose context ctx is (see Write) into batch, as Queue would,
// for a flush that sends them with its own statements in one round trip:
// queue them after the statements that lock rows. Records written after
// this call are kept, and inserted before the commit, as before.
func QueuePending(ctx context.Context, batch *pgx.Batch) {
	pending := postgres.PendingBuffer[rows](ctx, pendingName)
	if pending == nil || len(pending.topics) == 0 {
		return
	}
	pending.queue(batch)
	*pending = rows{}
}

// pendingName names the write-behind buffer of a transaction's records.
const pendingName = "outbox"

// writeBehind keeps rs for the commit of tx when ctx carries its hooks,
// and reports whether it did.
func writeBehind(ctx context.Context, tx pgx.Tx, rs rows) bool {
	pending := postgres.PendingLast(ctx, pendingName, func(ctx context.Context, pending *rows) error {
		return pending.write(ctx, tx)
	})
	if pending == nil {
		return false
	}
	pending.append(rs)
	return true
}

// Stamp gives records the traceparent of an "outbox write" span, a child
// of ctx's span, for a caller that writes them later under another
// context: a group commit writes the orders of many requests in its
// leader's transaction, each order's messages in the trace of its own
// request. Write keeps a traceparent it finds on a record.
func Stamp(ctx context.Context, records []Record) {
	if len(records) == 0 {
		return
	}
	traceparent := writeSpan(ctx, records)
	for i := range records {
		if records[i].Headers == nil {
			records[i].Headers = make(map[string]string, 1)
		}
		records[i].Headers[envelope.HeaderTraceparent] = traceparent
	}
}

// writeSpan records the "outbox write" span of records, a child of ctx's
// span, and returns its traceparent. The span ends at once: the rows are
// inserted in the caller's transaction, now or just before its commit.
// Until a provider that records is installed, the rows carry ctx's own
// span when it has one, and no span is started: it would only cost ids.
func writeSpan(ctx context.Context, records []Record) string {
	if !trace.Recording() {
		if tp := trace.Traceparent(ctx); tp != "" {
			return tp
		}
	}
	ctx, span := trace.Start(ctx, "outbox write")
	if span.IsRecording() {
		topics := make([]string, len(records))
		for i, r := range records {
			topics[i] = r.Topic
		}
		span.SetAttributes(attribute.Int("messaging.batch.message_count", len(records)),
			attribute.StringSlice("messaging.destination.names", topics))
	}
	span.End()
	return trace.Traceparent(ctx)
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
