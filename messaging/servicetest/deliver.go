package servicetest

import (
	"context"
	"database/sql"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/testdb"
)

// Deliver applies d with handler in a transaction of its own on pool,
// committed when handler succeeds, as the consumer applies a record.
func Deliver(ctx context.Context, pool *pgxpool.Pool, handler consumer.Handler, d consumer.Delivery) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return handler(ctx, tx, d) })
}

// Env is what a service's handler tests work on: a fresh database with the
// service's schema, and the service's consumer handler.
type Env struct {
	DB     *testdb.DB
	Handle consumer.Handler
}

// NewEnv returns an Env whose database migrate prepares, dropped when the
// test ends.
func NewEnv(t testing.TB, migrate func(context.Context, *sql.DB) error, handle consumer.Handler) *Env {
	t.Helper()
	return &Env{DB: testdb.New(t, migrate), Handle: handle}
}

// Deliver applies d as the consumer would (see Deliver).
func (e *Env) Deliver(d consumer.Delivery) error {
	return Deliver(context.Background(), e.DB.Pool, e.Handle, d)
}

// MustDeliver applies d as the consumer would, and fails the test when the
// handler fails.
func (e *Env) MustDeliver(t testing.TB, d consumer.Delivery) {
	t.Helper()
	if err := e.Deliver(d); err != nil {
		t.Fatalf("deliver %s: %v", d.Message.Type, err)
	}
}

// Outbox returns the rows the deliveries wrote (see Outbox).
func (e *Env) Outbox(t testing.TB, topics ...string) []Row {
	t.Helper()
	return Outbox(t, e.DB.Pool, topics...)
}

// Widen gives the database a pool of conns connections (see Widen).
func (e *Env) Widen(t testing.TB, conns int32) {
	t.Helper()
	Widen(t, e.DB, conns)
}

// offset numbers deliveries across a test binary, so that no two look
// like the same record.
var offset atomic.Int64

// NewDelivery wraps a fresh message of type typ in saga sagaID into a
// delivery from topic, keyed by sagaID, as the consumer would hand it over.
func NewDelivery(t testing.TB, topic, typ, sagaID string, data any) consumer.Delivery {
	t.Helper()
	m, err := envelope.New(typ, sagaID, data)
	if err != nil {
		t.Fatal(err)
	}
	return consumer.Delivery{Message: m, Topic: topic, Key: sagaID, Offset: offset.Add(1)}
}
