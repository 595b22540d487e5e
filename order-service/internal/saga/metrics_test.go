package saga_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/servicetest"

	"github.com/purchase-saga/order-service/internal/saga"
)

// endedCount reads saga_orders_ended_total for status and reason, and the
// number of its label sets.
func endedCount(t *testing.T, status, reason string) (value float64, series int) {
	t.Helper()
	value = servicetest.Counter(t, "saga_orders_ended_total", map[string]string{"status": status, "reason": reason})
	return value, servicetest.Series(t, "saga_orders_ended_total")
}

// The sweep counts the orders it failed only when its transaction
// committed, and the reason label is a class, never the failure's text.
func TestSweepCountsOnlyCommittedFailures(t *testing.T) {
	s, db := newSaga(t, -time.Second) // every order is overdue at once
	ctx := context.Background()
	const orders = 5
	for i := range orders {
		if _, _, err := s.Place(ctx, saga.PlaceRequest{CustomerID: fmt.Sprintf("c%d", i),
			Lines: []saga.LineRequest{{ItemID: "pen", Quantity: 1}}}, ""); err != nil {
			t.Fatal(err)
		}
	}
	before, series := endedCount(t, "FAILED", "timeout")
	// The sweep's transaction fails when it writes order.failed.
	if _, err := db.Pool.Exec(ctx, `ALTER TABLE outbox RENAME TO outbox_away`); err != nil {
		t.Fatal(err)
	}
	n, err := s.Sweep(ctx)
	if err == nil {
		t.Fatal("sweep succeeded without its outbox")
	}
	if n != 0 {
		t.Errorf("a failed sweep reports %d orders failed, want 0", n)
	}
	if got, _ := endedCount(t, "FAILED", "timeout"); got != before {
		t.Errorf("a rolled-back sweep counted %v orders ended", got-before)
	}
	if _, err := db.Pool.Exec(ctx, `ALTER TABLE outbox_away RENAME TO outbox`); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Sweep(ctx); err != nil || n != orders {
		t.Fatalf("Sweep = %d, %v; want %d", n, err, orders)
	}
	got, after := endedCount(t, "FAILED", "timeout")
	if got-before != orders {
		t.Errorf("the sweep counted %v orders ended by timeout, want %d", got-before, orders)
	}
	if after != series {
		t.Errorf("saga_orders_ended_total grew from %d to %d label sets; its labels must be pre-registered classes", series, after)
	}
}

func TestReasonClassesAreBounded(t *testing.T) {
	for reason, want := range map[string]string{
		"out_of_stock":       "out_of_stock",
		"insufficient_funds": "insufficient_funds",
		"timeout":            "timeout",
		"error: handle stock.reserve 0193ab…: relation does not exist": "error",
		"poison: invalid message":       "poison",
		"a reason no participant gives": "other",
	} {
		if got := saga.ReasonClass(reason); got != want {
			t.Errorf("ReasonClass(%q) = %q, want %q", reason, got, want)
		}
	}
}

// The admission controller's count: the pending orders of the database
// and the oldest one's age.
func TestInFlightCountsPendingOrders(t *testing.T) {
	s, _ := newSaga(t, time.Minute)
	ctx := context.Background()
	if f, err := s.InFlight(ctx); err != nil || f.Count != 0 || f.OldestAge != 0 {
		t.Fatalf("InFlight of an empty database = %+v, %v", f, err)
	}
	for i := range 3 {
		if _, _, err := s.Place(ctx, saga.PlaceRequest{CustomerID: fmt.Sprintf("c%d", i),
			Lines: []saga.LineRequest{{ItemID: "pen", Quantity: 1}}}, ""); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	f, err := s.InFlight(ctx)
	if err != nil || f.Count != 3 || f.OldestAge < 50*time.Millisecond || f.OldestAge > 10*time.Second {
		t.Errorf("InFlight = %+v, %v; want 3 orders, the oldest about 50ms old", f, err)
	}
}

// compensations reads saga_compensations_{sent,done}_total of step,
// failing the test when a series is missing (they are created with the
// package) or has no help text.
func compensations(t *testing.T, step string) (sent, done float64) {
	t.Helper()
	for name, v := range map[string]*float64{"saga_compensations_sent_total": &sent, "saga_compensations_done_total": &done} {
		s, ok := servicetest.Metric(t, name, map[string]string{"step": step})
		if !ok || s.Help == "" {
			t.Fatalf("%s{step=%q}: present %v, help %q", name, step, ok, s.Help)
		}
		*v = s.Value
	}
	return sent, done
}

// A compensation counts once when it is sent and once when its
// participant acknowledges it; a duplicate acknowledgement counts nothing.
func TestCompensationsCountSentAndDone(t *testing.T) {
	s, _ := newSaga(t, time.Minute)
	o, _, err := s.Place(context.Background(), saga.PlaceRequest{CustomerID: "c1", Lines: []saga.LineRequest{{ItemID: "book", Quantity: 1}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	sent, done := compensations(t, "stock")
	paymentSent, _ := compensations(t, "payment")
	for _, r := range []struct{ topic, typ string }{
		{topic.StockSuccess, stockmsg.TypeReserved},
		{topic.PaymentDLT, paymentmsg.TypeRejected},
	} {
		if err := reply(t, s, r.topic, r.typ, o.ID, map[string]string{"order_id": o.ID, "reason": "insufficient_funds"}); err != nil {
			t.Fatal(err)
		}
	}
	if gotSent, gotDone := compensations(t, "stock"); gotSent != sent+1 || gotDone != done {
		t.Errorf("stock compensations sent %v, done %v after the payment's refusal; want %v and %v", gotSent, gotDone, sent+1, done)
	}
	for range 2 { // the second a duplicate
		if err := reply(t, s, topic.StockSuccess, stockmsg.TypeReleased, o.ID, stockmsg.Released{OrderID: o.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if gotSent, gotDone := compensations(t, "stock"); gotSent != sent+1 || gotDone != done+1 {
		t.Errorf("stock compensations sent %v, done %v after the release (twice); want %v and %v", gotSent, gotDone, sent+1, done+1)
	}
	if got, _ := compensations(t, "payment"); got != paymentSent {
		t.Errorf("payment compensations sent moved by %v; nothing was charged", got-paymentSent)
	}
}
