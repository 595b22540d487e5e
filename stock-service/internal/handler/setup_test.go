package handler_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"sync/atomic"
	"testing"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/testdb"
	"github.com/purchase-saga/messaging/topic"
	"github.com/purchase-saga/migrations"

	"github.com/purchase-saga/stock-service/internal/handler"
	"github.com/purchase-saga/stock-service/internal/postgres"
	"github.com/purchase-saga/stock-service/internal/stock"
	"github.com/purchase-saga/stock-service/stockmsg"
)

const currency = "EUR"

func migrate(ctx context.Context, db *sql.DB) error {
	return migrations.Up(ctx, db, migrations.Stock)
}

// env is a fresh stock database and a handler over it.
type env struct {
	db *testdb.DB
	h  *handler.Handler
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return &env{db: testdb.New(t, migrate), h: handler.New(currency, "stock-service")}
}

// item creates item id with onHand units through the store.
func (e *env) item(t *testing.T, id string, onHand int64) {
	t.Helper()
	ctx := context.Background()
	err := postgres.InTx(ctx, e.db.Pool, func(s *postgres.Store) error {
		if _, _, err := s.PutItem(ctx, id, stock.Details{Name: id, PriceCents: 100, Currency: currency}); err != nil {
			return err
		}
		if onHand == 0 {
			return nil
		}
		_, err := s.Restock(ctx, id, onHand)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// get returns item id as stored.
func (e *env) get(t *testing.T, id string) stock.Item {
	t.Helper()
	var it stock.Item
	err := postgres.InTx(context.Background(), e.db.Pool, func(s *postgres.Store) (err error) {
		it, err = s.Item(context.Background(), id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return it
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

func reserve(t *testing.T, order string, lines ...stockmsg.Line) consumer.Delivery {
	return delivery(t, topic.Stock, stockmsg.TypeReserve, order, stockmsg.Reserve{OrderID: order, Lines: lines})
}

func release(t *testing.T, order string) consumer.Delivery {
	return delivery(t, topic.StockCompensation, stockmsg.TypeRelease, order, stockmsg.Release{OrderID: order})
}

func line(item string, q int64) stockmsg.Line { return stockmsg.Line{ItemID: item, Quantity: q} }

// row is one outbox row, decoded.
type row struct {
	Topic, Key, Reason, Error string
	Message                   envelope.Message
}

// outbox returns the rows written so far, oldest first; with topics, only
// those on them.
func (e *env) outbox(t *testing.T, topics ...string) []row {
	t.Helper()
	rows, err := e.db.Pool.Query(context.Background(), `SELECT topic, key,
		coalesce(headers->>'dlt-reason', ''), coalesce(headers->>'dlt-error', ''), value
		FROM outbox WHERE cardinality($1::text[]) = 0 OR topic = ANY($1) ORDER BY id`, topics)
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

// replies returns the replies written so far (everything but item.updated).
func (e *env) replies(t *testing.T) []row {
	return e.outbox(t, topic.StockSuccess, topic.StockDLT)
}

// status returns the reservation status of order, "" when there is none.
func (e *env) status(t *testing.T, order string) string {
	t.Helper()
	var st string
	err := e.db.Pool.QueryRow(context.Background(),
		`SELECT coalesce((SELECT status FROM reservations WHERE order_id = $1), '')`, order).Scan(&st)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func data[T any](t *testing.T, m envelope.Message) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(m.Data, &v); err != nil {
		t.Fatalf("%s data: %v", m.Type, err)
	}
	return v
}
