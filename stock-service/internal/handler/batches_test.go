package handler_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/messaging/testbroker"
	"github.com/purchase-saga/messaging/topic"

	"github.com/purchase-saga/stock-service/internal/handler"
	"github.com/purchase-saga/stock-service/stockmsg"
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
		for _, k := range rng.Perm(len(items))[:2+i%3] {
			lines = append(lines, line(items[k], 1))
			want[items[k]]++
		}
		order := fmt.Sprintf("o%04d", i)
		msgs = append(msgs, servicetest.Command(t, topic.Stock, stockmsg.TypeReserve, order, stockmsg.Reserve{OrderID: order, Lines: lines}))
	}
	servicetest.Send(t, b, msgs...)
	before := servicetest.Conflicts(t, "40P01")

	h := handler.New(currency, "stock-service")
	servicetest.Consumers(t, b, 2, consumer.Config{Pool: e.DB.Pool, Handler: h.Handle, Lock: h.Lock,
		Service: "stock-service", Workers: 4}, topic.Stock, topic.StockCompensation)

	deadline := time.Now().Add(60 * time.Second)
	for len(e.Outbox(t, topic.StockSuccess)) < orders {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d reserves applied after 60s", len(e.Outbox(t, topic.StockSuccess)), orders)
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
	if got := len(e.replies(t)); got != orders {
		t.Errorf("%d replies, want %d", got, orders)
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
