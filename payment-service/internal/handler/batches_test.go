package handler_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/messaging/testbroker"

	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/payment-service/internal/handler"
)

// Two instances with four workers each apply a backlog of charges to a
// few shared accounts, then of refunds, in batches: the batches must
// queue for the accounts, never deadlock, and leave the balances exact.
func TestBatchesOfConcurrentInstancesNeverDeadlock(t *testing.T) {
	e := newEnv(t)
	e.Widen(t, 12)
	accounts := []string{"w", "x", "y", "z"}
	for _, id := range accounts {
		e.account(t, id, 1_000_000)
	}
	b := testbroker.New(t, 6, topic.Payment, topic.PaymentCompensation, topic.PaymentDLT)
	const orders = 800
	var msgs []kafka.Message
	charged := map[string]int64{}
	for i := range orders {
		order, customer := fmt.Sprintf("o%04d", i), accounts[(i*7)%len(accounts)]
		msgs = append(msgs, servicetest.Command(t, topic.Payment, paymentmsg.TypeCharge, order,
			paymentmsg.Charge{OrderID: order, CustomerID: customer, AmountCents: 10, Currency: "EUR"}))
		charged[customer] += 10
		if i%4 == 0 {
			msgs = append(msgs, servicetest.Command(t, topic.PaymentCompensation, paymentmsg.TypeRefund, order,
				paymentmsg.Refund{OrderID: order}))
		}
	}
	servicetest.Send(t, b, msgs...)
	before := servicetest.Conflicts(t, "40P01")

	h := handler.New("payment-service")
	servicetest.Consumers(t, b, 2, consumer.Config{Pool: e.DB.Pool, Handler: h.Handle, Lock: h.Lock,
		Service: "payment-service", Workers: 4}, topic.Payment, topic.PaymentCompensation)

	want := orders + orders/4
	deadline := time.Now().Add(60 * time.Second)
	for len(e.Outbox(t, topic.PaymentSuccess, topic.PaymentDLT)) < want {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d commands answered after 60s", len(e.Outbox(t, topic.PaymentSuccess, topic.PaymentDLT)), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := servicetest.Conflicts(t, "40P01") - before; got != 0 {
		t.Errorf("%v batches deadlocked, want 0", got)
	}
	// A refund may come before its charge (a tombstone: the charge is then
	// refused), or after it (money back): either way the order costs nothing.
	var kept int64
	for _, id := range accounts {
		kept += 1_000_000 - e.balance(t, id)
	}
	var open int64
	for i := range orders {
		if i%4 != 0 {
			open += 10
		}
	}
	if kept != open {
		t.Errorf("accounts lost %d cents in all, want %d (the orders not refunded)", kept, open)
	}
}

// A charge sent twice under two message ids (a replay) in one batch, and
// charges for the last money of an account: each command sees what the
// batch's earlier ones did, read once for the batch, so the order is
// charged once, the account never overdrawn, and nothing is retried.
func TestBatchOfChargesSeesItsOwnEffects(t *testing.T) {
	e := newEnv(t)
	e.account(t, "last", 300)
	b := testbroker.New(t, 1, topic.Payment, topic.PaymentCompensation, topic.PaymentDLT)
	charge := func(order string) kafka.Message {
		return servicetest.Command(t, topic.Payment, paymentmsg.TypeCharge, order,
			paymentmsg.Charge{OrderID: order, CustomerID: "last", AmountCents: 100, Currency: "EUR"})
	}
	msgs := []kafka.Message{charge("twice"), charge("twice")}
	for i := range 5 {
		msgs = append(msgs, charge(fmt.Sprintf("o%d", i)))
	}
	servicetest.Send(t, b, msgs...)
	retries := servicetest.Counter(t, "saga_consumer_retries_total", map[string]string{"topic": topic.Payment})
	h := handler.New("payment-service")
	servicetest.Consumers(t, b, 1, consumer.Config{Pool: e.DB.Pool, Handler: h.Handle, Lock: h.Lock,
		Service: "payment-service", Workers: 1}, topic.Payment)
	deadline := time.Now().Add(30 * time.Second)
	for len(e.replies(t)) < len(msgs) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d charges answered after 30s", len(e.replies(t)), len(msgs))
		}
		time.Sleep(20 * time.Millisecond)
	}
	count := map[string]int{}
	for _, r := range e.replies(t) {
		count[r.Message.Type]++
	}
	// "twice" charged once and answered twice, then two of the five.
	if count[paymentmsg.TypeCharged] != 4 || count[paymentmsg.TypeRejected] != 3 {
		t.Errorf("replies %v, want 4 charged (one of them repeated) and 3 rejected", count)
	}
	if got := e.balance(t, "last"); got != 0 {
		t.Errorf("balance %d, want 0", got)
	}
	if got := servicetest.Counter(t, "saga_consumer_retries_total", map[string]string{"topic": topic.Payment}) - retries; got != 0 {
		t.Errorf("%v retries: a command decided on a stale view of the batch", got)
	}
}
