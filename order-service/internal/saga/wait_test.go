package saga_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
	"github.com/purchase-saga/order-service/internal/saga"
)

// A long poll on an order placed here is answered with the order as it
// ended in this instance, without reading it again, whether it ends while
// the poll waits or just before the poll began; one that ends in another
// instance is read once, after that instance's notification.
func TestAWaitIsHandedTheOrderThatEndedHere(t *testing.T) {
	s, db := newSaga(t, time.Minute)
	ctx := context.Background()
	here := &saga.Waiter{DatabaseURL: db.URL, Log: slog.Default()}
	s.Waiter = here
	// here listens too: its own notification must not make it read.
	hctx, stopHere := context.WithCancel(ctx)
	hereStopped := make(chan struct{})
	go func() { _ = here.Run(hctx); close(hereStopped) }()
	defer func() { stopHere(); <-hereStopped }()
	counting, statements := servicetest.CountingPool(t, db)
	// The same saga, its reads counted.
	waiting := &saga.Saga{Store: postgres.NewStore(counting), Currency: s.Currency, Timeout: s.Timeout, Log: s.Log}

	place := func() order.Order {
		t.Helper()
		o, _, err := s.Place(ctx, saga.PlaceRequest{CustomerID: "c", Lines: []saga.LineRequest{{ItemID: "pen", Quantity: 1}}}, "")
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	// complete applies both successes of id in one batch, as the consumer does.
	complete := func(id string) {
		t.Helper()
		ds := []consumer.Delivery{
			servicetest.NewDelivery(t, topic.StockSuccess, stockmsg.TypeReserved, id,
				stockmsg.Reserved{OrderID: id, Lines: []stockmsg.Line{{ItemID: "pen", Quantity: 1}}}),
			servicetest.NewDelivery(t, topic.PaymentSuccess, paymentmsg.TypeCharged, id, paymentmsg.Charged{OrderID: id, AmountCents: 100}),
		}
		if err := servicetest.ApplyBatch(db.Pool, s.Lock, s.Handle, ds...); err != nil {
			t.Fatal(err)
		}
	}
	// same checks that the order a wait returned is the order stored.
	same := func(got order.Order) {
		t.Helper()
		stored, err := s.Get(ctx, nil, got.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(stored)
		if string(a) != string(b) {
			t.Errorf("wait returned\n%s\nthe order stored is\n%s", a, b)
		}
	}

	// Ends while the wait waits.
	o := place()
	statements.Reset()
	done := make(chan order.Order)
	go func() {
		got, err := waiting.Wait(ctx, here, o, 10*time.Second)
		if err != nil {
			t.Error(err)
		}
		done <- got
	}()
	time.Sleep(200 * time.Millisecond) // listening, and waiting
	complete(o.ID)
	select {
	case got := <-done:
		if got.Status != order.Completed {
			t.Errorf("wait returned %s, want COMPLETED", got.Status)
		}
		same(got)
	case <-time.After(900 * time.Millisecond): // under the recheck
		t.Fatal("the wait did not end when the order ended here")
	}
	if n := statements.Total(); n != 0 {
		t.Errorf("the wait sent %d statements, want none", n)
	}

	// Ended just before the wait began.
	o = place()
	complete(o.ID)
	statements.Reset()
	got, err := waiting.Wait(ctx, here, o, 10*time.Second)
	if err != nil || got.Status != order.Completed || statements.Total() != 0 {
		t.Errorf("wait after the end: %s, %v, %d statements; want COMPLETED, no statement", got.Status, err, statements.Total())
	}

	// Ends in another instance: its notification wakes this one's wait,
	// which reads the order once.
	elsewhere := &saga.Waiter{DatabaseURL: db.URL, Log: slog.Default()}
	rctx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { _ = elsewhere.Run(rctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	time.Sleep(200 * time.Millisecond) // listening
	o = place()
	statements.Reset()
	go func() {
		got, err := waiting.Wait(ctx, elsewhere, o, 10*time.Second)
		if err != nil {
			t.Error(err)
		}
		done <- got
	}()
	time.Sleep(100 * time.Millisecond)
	complete(o.ID)
	select {
	case got := <-done:
		if got.Status != order.Completed {
			t.Errorf("wait in another instance returned %s, want COMPLETED", got.Status)
		}
	case <-time.After(900 * time.Millisecond):
		t.Fatal("the notification did not wake the other instance's wait")
	}
	if n := statements.Count("SELECT"); n != 1 {
		t.Errorf("the other instance's wait read %d times, want once", n)
	}
}
