package handler_test

import (
	"context"
	"testing"
	"time"

	"github.com/purchase-saga/contract"
	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/messaging/participant"
	"github.com/purchase-saga/messaging/participant/participanttest"
	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/messaging/testdb"

	"github.com/purchase-saga/payment-service/internal/handler"
)

// Payment obeys every rule of a participant: a charge of 300 to "rich"
// succeeds, one of 500 to "poor", who holds 100, is refused for
// insufficient funds until "poor" deposits more.
func TestPaymentIsAParticipant(t *testing.T) {
	on := func(db *testdb.DB) *env { return &env{&servicetest.Env{DB: db}} }
	participanttest.Run(t, participanttest.Harness{
		Step: participant.Step(contract.Payment),
		Open: func(t *testing.T) (*testdb.DB, participanttest.Participant) {
			return testdb.New(t, migrate), handler.New("payment-service")
		},
		Seed: func(t *testing.T, db *testdb.DB) {
			on(db).account(t, "rich", 1_000_000)
			on(db).account(t, "poor", 100)
		},
		Allow: func(t *testing.T, db *testdb.DB) { on(db).account(t, "poor", 1000) },
		Command: func(order string, refused bool, deadline time.Time) any {
			c := paymentmsg.Charge{OrderID: order, CustomerID: "rich", AmountCents: 300, Currency: "EUR", Deadline: deadline}
			if refused {
				c.CustomerID, c.AmountCents = "poor", 500
			}
			return c
		},
		Compensation: func(order string) any { return paymentmsg.Refund{OrderID: order} },
		State: func(t *testing.T, db *testdb.DB) string {
			var s string
			err := db.Pool.QueryRow(context.Background(),
				`SELECT string_agg(concat_ws(' ', id, balance_cents), ', ' ORDER BY id) FROM accounts`).Scan(&s)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	})
}
