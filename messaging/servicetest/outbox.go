package servicetest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/purchase-saga/messaging/dlt"
	"github.com/purchase-saga/messaging/envelope"
)

// Row is one outbox row, decoded.
type Row struct {
	Topic, Key string
	// Reason and Error are the dlt-reason and dlt-error headers of a dead
	// letter, empty on other rows.
	Reason, Error string
	Message       envelope.Message
}

// Outbox returns the rows written to pool's outbox so far, oldest first;
// with topics, only those on them.
func Outbox(t testing.TB, pool *pgxpool.Pool, topics ...string) []Row {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT topic, key,
		coalesce(headers->>$2, ''), coalesce(headers->>$3, ''), value
		FROM outbox WHERE coalesce(cardinality($1::text[]), 0) = 0 OR topic = ANY($1) ORDER BY id`,
		topics, dlt.HeaderReason, dlt.HeaderError)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		var value []byte
		if err := rows.Scan(&r.Topic, &r.Key, &r.Reason, &r.Error, &value); err != nil {
			t.Fatal(err)
		}
		if r.Message, err = envelope.Decode(value); err != nil {
			t.Fatalf("outbox row on %s: %v", r.Topic, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// CheckRejection checks that rows are a single rejection of the command keyed
// key, as consumer.Rejection writes one: a message of type typ on topic,
// with dlt-reason rejected and the business reason as dlt-error. It
// returns that row, for the caller to check the message's data.
func CheckRejection(t testing.TB, rows []Row, topic, typ, key, reason string) Row {
	t.Helper()
	if len(rows) != 1 {
		t.Fatalf("got %d replies, want 1: %+v", len(rows), rows)
	}
	r := rows[0]
	if r.Topic != topic || r.Key != key || r.Message.Type != typ {
		t.Errorf("reply = %s key %s type %s, want %s key %s %s", r.Topic, r.Key, r.Message.Type, topic, key, typ)
	}
	if got, want := r.Reason, "rejected"; got != want {
		t.Errorf("dlt-reason = %q, want %q", got, want)
	}
	if got, want := r.Error, reason; got != want {
		t.Errorf("dlt-error = %q, want %q", got, want)
	}
	return r
}

// Data decodes m's data as a T.
func Data[T any](t testing.TB, m envelope.Message) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(m.Data, &v); err != nil {
		t.Fatalf("%s data: %v", m.Type, err)
	}
	return v
}
