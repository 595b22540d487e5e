package saga_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/messaging/testbroker"
	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
	"github.com/purchase-saga/order-service/internal/saga"
)

// The replies of one order come on two topics, which two instances may
// consume: here stock answers the orders in one order and payment in the
// reverse one. Batches must lock the orders in one global order and
// never deadlock; every order completes.
func TestReplyBatchesOfConcurrentInstancesNeverDeadlock(t *testing.T) {
	s, db := newSaga(t, time.Minute)
	servicetest.Widen(t, db, 12)
	s.Store = postgres.NewStore(db.Pool)
	ctx := context.Background()
	const orders = 400
	ids := make([]string, orders)
	for i := range orders {
		o, _, err := s.Place(ctx, saga.PlaceRequest{CustomerID: fmt.Sprintf("c%d", i),
			Lines: []saga.LineRequest{{ItemID: "pen", Quantity: 1}}}, "")
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = o.ID
	}
	b := testbroker.New(t, 6, saga.Topics...)
	var stockReplies, paymentReplies []kafka.Message
	for _, id := range ids {
		stockReplies = append(stockReplies, servicetest.Command(t, topic.StockSuccess, stockmsg.TypeReserved, id,
			stockmsg.Reserved{OrderID: id, Lines: []stockmsg.Line{{ItemID: "pen", Quantity: 1}}}))
	}
	for _, id := range slices.Backward(ids) {
		paymentReplies = append(paymentReplies, servicetest.Command(t, topic.PaymentSuccess, paymentmsg.TypeCharged, id,
			paymentmsg.Charged{OrderID: id, AmountCents: 100}))
	}
	servicetest.Send(t, b, stockReplies...)
	servicetest.Send(t, b, paymentReplies...)
	before := servicetest.Conflicts(t, "40P01")

	servicetest.Consumers(t, b, 2, consumer.Config{Pool: db.Pool, Handler: s.Handle, Lock: s.Lock,
		Service: "order-service", Workers: 4}, saga.Topics...)

	deadline := time.Now().Add(60 * time.Second)
	for {
		var done int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM orders WHERE status = 'COMPLETED'`).Scan(&done); err != nil {
			t.Fatal(err)
		}
		if done == orders {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d orders completed after 60s", done, orders)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := servicetest.Conflicts(t, "40P01") - before; got != 0 {
		t.Errorf("%v batches deadlocked, want 0", got)
	}
}

// Two replies of one order in one batch: the second sees the order as the
// first left it, read once when the batch locked it.
func TestTwoRepliesOfOneOrderInOneBatch(t *testing.T) {
	s, db := newSaga(t, time.Minute)
	ctx := context.Background()
	o, _, err := s.Place(ctx, saga.PlaceRequest{CustomerID: "c", Lines: []saga.LineRequest{{ItemID: "pen", Quantity: 1}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	deliveries := []consumer.Delivery{
		servicetest.NewDelivery(t, topic.StockSuccess, stockmsg.TypeReserved, o.ID,
			stockmsg.Reserved{OrderID: o.ID, Lines: []stockmsg.Line{{ItemID: "pen", Quantity: 1}}}),
		servicetest.NewDelivery(t, topic.PaymentSuccess, paymentmsg.TypeCharged, o.ID, paymentmsg.Charged{OrderID: o.ID, AmountCents: 100}),
	}
	if err := servicetest.ApplyBatch(db.Pool, s.Lock, s.Handle, deliveries...); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, nil, o.ID, 0)
	if err != nil || got.Status != order.Completed {
		t.Errorf("order after both replies in one batch: %s, %v; want COMPLETED", got.Status, err)
	}
}
