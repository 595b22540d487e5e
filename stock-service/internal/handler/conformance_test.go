package handler_test

import (
	"context"
	"testing"
	"time"

	"github.com/purchase-saga/contract"
	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/messaging/participant"
	"github.com/purchase-saga/messaging/participant/participanttest"
	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/messaging/testdb"

	"github.com/purchase-saga/stock-service/internal/handler"
)

// Stock obeys every rule of a participant: an order's reservation of
// "plenty" succeeds, one that also wants three of the single "short" unit
// is refused out of stock until "short" is restocked.
func TestStockIsAParticipant(t *testing.T) {
	on := func(db *testdb.DB) *env { return &env{&servicetest.Env{DB: db}} }
	participanttest.Run(t, participanttest.Harness{
		Step: participant.Step(contract.Stock),
		Open: func(t *testing.T) (*testdb.DB, participanttest.Participant) {
			return testdb.New(t, migrate), handler.New(currency, "stock-service")
		},
		Seed: func(t *testing.T, db *testdb.DB) {
			on(db).item(t, "plenty", 1000)
			on(db).item(t, "short", 1)
		},
		Allow: func(t *testing.T, db *testdb.DB) { on(db).item(t, "short", 10) },
		Command: func(order string, refused bool, deadline time.Time) any {
			lines := []stockmsg.Line{line("plenty", 2)}
			if refused {
				lines = append(lines, line("short", 3))
			}
			return stockmsg.Reserve{OrderID: order, Lines: lines, Deadline: deadline}
		},
		Compensation: func(order string) any { return stockmsg.Release{OrderID: order} },
		State: func(t *testing.T, db *testdb.DB) string {
			var s string
			err := db.Pool.QueryRow(context.Background(),
				`SELECT string_agg(concat_ws(' ', id, on_hand, reserved), ', ' ORDER BY id) FROM items`).Scan(&s)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	})
}
