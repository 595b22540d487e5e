package saga_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
	"github.com/purchase-saga/order-service/internal/saga"
)

// A batch of replies and catalog snapshots is written in a few statements
// whatever its size: every order's last state in one UPDATE, the
// snapshots (the last of each item) in one upsert, the compensations and
// lifecycle events in one outbox insert, and one notification per order
// that ended, so that long polls wake.
func TestABatchIsWrittenInAsManyStatementsWhateverItsSize(t *testing.T) {
	s, db := newSaga(t, time.Minute)
	ctx := context.Background()
	pool, statements := servicetest.CountingPool(t, db)
	listener, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close(ctx)
	if _, err := listener.Exec(ctx, "LISTEN "+saga.TerminalChannel); err != nil {
		t.Fatal(err)
	}

	// run places n orders, then applies in one batch: both successes for
	// the even ones, stock's success and payment's refusal for the odd
	// ones, and three snapshots of pen, the last saying 3 available.
	run := func(n int) (statementsSent int) {
		t.Helper()
		ids := make([]string, n)
		var ds []consumer.Delivery
		for i := range n {
			o, _, err := s.Place(ctx, saga.PlaceRequest{CustomerID: fmt.Sprintf("c%d", i),
				Lines: []saga.LineRequest{{ItemID: "book", Quantity: 1}}}, "")
			if err != nil {
				t.Fatal(err)
			}
			ids[i] = o.ID
			ds = append(ds, servicetest.NewDelivery(t, topic.StockSuccess, stockmsg.TypeReserved, o.ID,
				stockmsg.Reserved{OrderID: o.ID, Lines: []stockmsg.Line{{ItemID: "book", Quantity: 1}}}))
			if i%2 == 0 {
				ds = append(ds, servicetest.NewDelivery(t, topic.PaymentSuccess, paymentmsg.TypeCharged, o.ID,
					paymentmsg.Charged{OrderID: o.ID, AmountCents: 500}))
			} else {
				ds = append(ds, servicetest.NewDelivery(t, topic.PaymentDLT, paymentmsg.TypeRejected, o.ID,
					paymentmsg.Rejected{OrderID: o.ID, Reason: "insufficient_funds"}))
			}
		}
		for _, available := range []int64{7, 5, 3} {
			ds = append(ds, servicetest.NewDelivery(t, topic.Items, stockmsg.TypeItemUpdated, "pen",
				stockmsg.ItemUpdated{ID: "pen", Name: "Pen", PriceCents: 100, Currency: "EUR", Available: available}))
		}

		statements.Reset()
		if err := servicetest.ApplyBatch(pool, s.Lock, s.Handle, ds...); err != nil {
			t.Fatal(err)
		}
		// BEGIN; the lock of the orders; the orders, their notifications
		// and the outbox rows together; the catalog; COMMIT.
		if got := statements.RoundTrips(); got != 5 {
			t.Errorf("batch of %d orders: %d round trips, want 5", n, got)
		}
		for prefix, want := range map[string]int{"UPDATE orders": 1, "INSERT INTO catalog": 1, "INSERT INTO outbox": 1, "SELECT pg_advisory_xact_lock": 1, "SELECT pg_notify": 1} {
			if got := statements.Count(prefix); got != want {
				t.Errorf("batch of %d orders: %d statements %q..., want %d", n, got, prefix, want)
			}
		}

		for i, id := range ids {
			got, err := s.Get(ctx, nil, id, 0)
			if err != nil {
				t.Fatal(err)
			}
			want, compensated := order.Completed, 0
			if i%2 == 1 {
				want, compensated = order.Failed, 1
			}
			types := outboxTypes(t, db.Pool, id)
			if got.Status != want || types[stockmsg.TypeRelease] != compensated {
				t.Errorf("order %d: %s with %d releases, want %s with %d", i, got.Status, types[stockmsg.TypeRelease], want, compensated)
			}
		}
		woken := map[string]bool{}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		for len(woken) < n {
			note, err := listener.WaitForNotification(wctx)
			if err != nil {
				t.Fatalf("batch of %d orders: %d of them notified as ended: %v", n, len(woken), err)
			}
			woken[note.Payload] = true
		}
		items, err := postgres.NewStore(db.Pool).Catalog().Items(ctx, []string{"pen"})
		if err != nil || items["pen"].Available != 3 {
			t.Errorf("catalog pen %+v (%v), want the last snapshot: 3 available", items["pen"], err)
		}
		return statements.Total()
	}
	one, many := run(1), run(40)
	if one != many {
		t.Errorf("a batch of 1 order sent %d statements, one of 40 sent %d: want as many", one, many)
	}
}
