package handler_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/messaging/testbroker"

	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/stock-service/internal/handler"
)

// Two instances with four workers each apply a backlog of multi-line
// reserves in batches, every order naming a few shared items in its own
// order: the batches must queue for the items, never deadlock, and
// reserve exactly what the orders asked.
func TestBatchesOfConcurrentInstancesNeverDeadlock(t *testing.T) {
	e := newEnv(t)
	e.Widen(t, 12)
	items := []string{"a", "b", "c", "d"}
	for _, id := range items {
		e.item(t, id, 1_000_000)
	}
	b := testbroker.New(t, 6, topic.Stock, topic.StockCompensation, topic.StockDLT)
	const orders = 800
	want := map[string]int64{}
	var msgs []kafka.Message
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range orders {
		var lines []stockmsg.Line
		released := i%4 == 0 // released before or after it is reserved: nothing stays reserved
		for _, k := range rng.Perm(len(items))[:2+i%3] {
			lines = append(lines, line(items[k], 1))
			if !released {
				want[items[k]]++
			}
		}
		order := fmt.Sprintf("o%04d", i)
		msgs = append(msgs, servicetest.Command(t, topic.Stock, stockmsg.TypeReserve, order, stockmsg.Reserve{OrderID: order, Lines: lines}))
		if released {
			msgs = append(msgs, servicetest.Command(t, topic.StockCompensation, stockmsg.TypeRelease, order, stockmsg.Release{OrderID: order}))
		}
	}
	servicetest.Send(t, b, msgs...)
	before := servicetest.Conflicts(t, "40P01")

	h := handler.New(currency, "stock-service")
	servicetest.Consumers(t, b, 2, consumer.Config{Pool: e.DB.Pool, Handler: h.Handle, Lock: h.Lock,
		Service: "stock-service", Workers: 4}, topic.Stock, topic.StockCompensation)

	answers := orders + orders/4 // every reserve, and every release, is answered
	deadline := time.Now().Add(60 * time.Second)
	for len(e.replies(t)) < answers {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d commands answered after 60s", len(e.replies(t)), answers)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := servicetest.Conflicts(t, "40P01") - before; got != 0 {
		t.Errorf("%v batches deadlocked, want 0", got)
	}
	for _, id := range items {
		if got := e.get(t, id).Reserved; got != want[id] {
			t.Errorf("%s reserved %d, want %d", id, got, want[id])
		}
	}
	if got := len(e.replies(t)); got != answers {
		t.Errorf("%d replies, want %d", got, answers)
	}
	// One snapshot per item per batch, the last of each item its final state.
	snapshots := e.Outbox(t, topic.Items)
	lines := 0
	for _, n := range want {
		lines += int(n)
	}
	if len(snapshots) >= lines/4 {
		t.Errorf("%d item.updated snapshots for %d reserved lines: batches must coalesce them", len(snapshots), lines)
	}
	last := map[string]int64{}
	for _, r := range snapshots {
		u := servicetest.Data[stockmsg.ItemUpdated](t, r.Message)
		last[u.ID] = u.Available
	}
	for _, id := range items {
		if got, want := last[id], e.get(t, id).Available(); got != want {
			t.Errorf("last snapshot of %s: available %d, want %d", id, got, want)
		}
	}
}

// A backlog of reserves for the last units, applied in batches: each
// command sees the units the earlier ones of its batch took (read once for
// the batch), so exactly the stock is reserved, the rest refused out of
// stock, and nothing fails or is retried.
func TestBatchOfReservesForTheLastUnits(t *testing.T) {
	e := newEnv(t)
	e.item(t, "z", 30)
	b := testbroker.New(t, 1, topic.Stock, topic.StockCompensation, topic.StockDLT)
	var msgs []kafka.Message
	for i := range 100 {
		order := fmt.Sprintf("z%03d", i)
		msgs = append(msgs, servicetest.Command(t, topic.Stock, stockmsg.TypeReserve, order,
			stockmsg.Reserve{OrderID: order, Lines: []stockmsg.Line{line("z", 1)}}))
	}
	servicetest.Send(t, b, msgs...)
	retries := servicetest.Counter(t, "saga_consumer_retries_total", map[string]string{"topic": topic.Stock})
	h := handler.New(currency, "stock-service")
	servicetest.Consumers(t, b, 1, consumer.Config{Pool: e.DB.Pool, Handler: h.Handle, Lock: h.Lock,
		Service: "stock-service", Workers: 1}, topic.Stock)
	deadline := time.Now().Add(30 * time.Second)
	for len(e.replies(t)) < 100 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 100 reserves answered after 30s", len(e.replies(t)))
		}
		time.Sleep(20 * time.Millisecond)
	}
	count := map[string]int{}
	for _, r := range e.replies(t) {
		count[r.Message.Type]++
	}
	if count[stockmsg.TypeReserved] != 30 || count[stockmsg.TypeRejected] != 70 {
		t.Errorf("replies %v, want 30 reserved and 70 rejected", count)
	}
	if it := e.get(t, "z"); it.Reserved != 30 {
		t.Errorf("reserved %d, want 30", it.Reserved)
	}
	if got := servicetest.Counter(t, "saga_consumer_retries_total", map[string]string{"topic": topic.Stock}) - retries; got != 0 {
		t.Errorf("%v retries: a command decided on a stale view of the batch", got)
	}
}
