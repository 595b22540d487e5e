package handler_test

import (
	"context"
	"testing"
	"time"

	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/migrations"

	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/stock-service/internal/handler"
	"github.com/purchase-saga/stock-service/internal/postgres"
	"github.com/purchase-saga/stock-service/internal/stock"
)

const currency = "EUR"

var migrate = migrations.For(migrations.Stock)

// env is a fresh stock database and a handler over it.
type env struct {
	*servicetest.Env
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return &env{servicetest.NewEnv(t, migrate, handler.New(currency, "stock-service").Handle)}
}

// item creates item id with onHand units through the store.
func (e *env) item(t *testing.T, id string, onHand int64) {
	t.Helper()
	ctx := context.Background()
	err := postgres.Open(e.DB.Pool).InTx(ctx, func(s *postgres.Store) error {
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
	err := postgres.Open(e.DB.Pool).InTx(context.Background(), func(s *postgres.Store) (err error) {
		it, err = s.Item(context.Background(), id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func reserve(t *testing.T, order string, lines ...stockmsg.Line) consumer.Delivery {
	return servicetest.NewDelivery(t, topic.Stock, stockmsg.TypeReserve, order, stockmsg.Reserve{OrderID: order, Lines: lines})
}

func release(t *testing.T, order string) consumer.Delivery {
	return servicetest.NewDelivery(t, topic.StockCompensation, stockmsg.TypeRelease, order, stockmsg.Release{OrderID: order})
}

func line(item string, q int64) stockmsg.Line { return stockmsg.Line{ItemID: item, Quantity: q} }

// replies returns the replies written so far (everything but item.updated).
func (e *env) replies(t *testing.T) []servicetest.Row {
	t.Helper()
	return e.Outbox(t, topic.StockSuccess, topic.StockDLT)
}

// status returns the reservation status of order, "" when there is none.
func (e *env) status(t *testing.T, order string) string {
	t.Helper()
	var st string
	err := e.DB.Pool.QueryRow(context.Background(),
		`SELECT coalesce((SELECT status FROM reservations WHERE order_id = $1), '')`, order).Scan(&st)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func reserveBy(t *testing.T, order string, deadline time.Time, lines ...stockmsg.Line) consumer.Delivery {
	return servicetest.NewDelivery(t, topic.Stock, stockmsg.TypeReserve, order,
		stockmsg.Reserve{OrderID: order, Lines: lines, Deadline: deadline})
}
