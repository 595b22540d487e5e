package handler_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/testdb"
	"github.com/purchase-saga/messaging/topic"
	"github.com/purchase-saga/migrations"

	"github.com/purchase-saga/payment-service/internal/handler"
	"github.com/purchase-saga/payment-service/internal/postgres"
	"github.com/purchase-saga/payment-service/paymentmsg"
)

func migrate(ctx context.Context, db *sql.DB) error {
	return migrations.Up(ctx, db, migrations.Payment)
}

// env is a fresh payment database and a handler over it.
type env struct {
	db *testdb.DB
	h  *handler.Handler
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return &env{db: testdb.New(t, migrate), h: handler.New("payment-service")}
}

// account opens account id in EUR and deposits cents into it, if any.
func (e *env) account(t *testing.T, id string, cents int64) {
	t.Helper()
	ctx := context.Background()
	err := postgres.InTx(ctx, e.db.Pool, func(s *postgres.Store) error {
		if _, _, err := s.CreateAccount(ctx, id, "EUR"); err != nil || cents == 0 {
			return err
		}
		_, _, err := s.Deposit(ctx, id, cents)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// balance returns account id's balance.
func (e *env) balance(t *testing.T, id string) int64 {
	t.Helper()
	var b int64
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT balance_cents FROM accounts WHERE id = $1`, id).Scan(&b); err != nil {
		t.Fatal(err)
	}
	return b
}

// status returns the charge status of order, "" when there is none.
func (e *env) status(t *testing.T, order string) string {
	t.Helper()
	var st string
	err := e.db.Pool.QueryRow(context.Background(),
		`SELECT coalesce((SELECT status FROM charges WHERE order_id = $1), '')`, order).Scan(&st)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// deliver applies d with the handler in its own transaction, committed
// when the handler succeeds.
func (e *env) deliver(d consumer.Delivery) error {
	ctx := context.Background()
	tx, err := e.db.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if err := e.h.Handle(ctx, tx, d); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func (e *env) mustDeliver(t *testing.T, d consumer.Delivery) {
	t.Helper()
	if err := e.deliver(d); err != nil {
		t.Fatalf("deliver %s: %v", d.Message.Type, err)
	}
}

var offset atomic.Int64

// delivery wraps a fresh message of type typ for order into a delivery as
// the consumer would hand it over.
func delivery(t *testing.T, from, typ, order string, data any) consumer.Delivery {
	t.Helper()
	m, err := envelope.New(typ, order, data)
	if err != nil {
		t.Fatal(err)
	}
	return consumer.Delivery{Message: m, Topic: from, Key: order, Offset: offset.Add(1)}
}

func charge(t *testing.T, order, customer string, cents int64) consumer.Delivery {
	return delivery(t, topic.Payment, paymentmsg.TypeCharge, order,
		paymentmsg.Charge{OrderID: order, CustomerID: customer, AmountCents: cents, Currency: "EUR"})
}

func refund(t *testing.T, order string) consumer.Delivery {
	return delivery(t, topic.PaymentCompensation, paymentmsg.TypeRefund, order, paymentmsg.Refund{OrderID: order})
}

// row is one outbox row, decoded.
type row struct {
	Topic, Key, Reason, Error string
	Message                   envelope.Message
}

// replies returns the outbox rows written so far, oldest first.
func (e *env) replies(t *testing.T) []row {
	t.Helper()
	rows, err := e.db.Pool.Query(context.Background(), `SELECT topic, key,
		coalesce(headers->>'dlt-reason', ''), coalesce(headers->>'dlt-error', ''), value FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var r row
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

func data[T any](t *testing.T, m envelope.Message) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(m.Data, &v); err != nil {
		t.Fatalf("%s data: %v", m.Type, err)
	}
	return v
}

// widen gives e a pool large enough that every goroutine of a race holds
// its own connection, so that the transactions really overlap.
func (e *env) widen(t *testing.T, conns int32) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(e.db.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = conns
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	e.db.Pool = pool
}

// race runs fn(i) for i in [0, n) at once and returns their errors.
func race(n int, fn func(i int) error) []error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}
