package handler_test

import (
	"context"
	"testing"

	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/migrations"

	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/payment-service/internal/handler"
	"github.com/purchase-saga/payment-service/internal/postgres"
)

var migrate = migrations.For(migrations.Payment)

// env is a fresh payment database and a handler over it.
type env struct {
	*servicetest.Env
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return &env{servicetest.NewEnv(t, migrate, handler.New("payment-service").Handle)}
}

// account opens account id in EUR and deposits cents into it, if any.
func (e *env) account(t *testing.T, id string, cents int64) {
	t.Helper()
	ctx := context.Background()
	err := postgres.Open(e.DB.Pool).InTx(ctx, func(s *postgres.Store) error {
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
	if err := e.DB.Pool.QueryRow(context.Background(), `SELECT balance_cents FROM accounts WHERE id = $1`, id).Scan(&b); err != nil {
		t.Fatal(err)
	}
	return b
}

// status returns the charge status of order, "" when there is none.
func (e *env) status(t *testing.T, order string) string {
	t.Helper()
	var st string
	err := e.DB.Pool.QueryRow(context.Background(),
		`SELECT coalesce((SELECT status FROM charges WHERE order_id = $1), '')`, order).Scan(&st)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func charge(t *testing.T, order, customer string, cents int64) consumer.Delivery {
	return servicetest.NewDelivery(t, topic.Payment, paymentmsg.TypeCharge, order,
		paymentmsg.Charge{OrderID: order, CustomerID: customer, AmountCents: cents, Currency: "EUR"})
}

func refund(t *testing.T, order string) consumer.Delivery {
	return servicetest.NewDelivery(t, topic.PaymentCompensation, paymentmsg.TypeRefund, order, paymentmsg.Refund{OrderID: order})
}

// replies returns the outbox rows written so far, oldest first.
func (e *env) replies(t *testing.T) []servicetest.Row {
	t.Helper()
	return e.Outbox(t)
}
