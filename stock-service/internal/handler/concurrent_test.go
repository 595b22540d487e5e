package handler_test

import (
	"fmt"
	"testing"

	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/servicetest"

	"github.com/purchase-saga/contract/stockmsg"
)

func TestConcurrentReservesNeverOversell(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.Widen(t, 20)
	e.item(t, "a", 10)
	before := len(e.Outbox(t, topic.Items))

	errs := servicetest.Race(50, func(i int) error { return e.Deliver(reserve(t, fmt.Sprintf("o%d", i), line("a", 1))) })

	for i, err := range errs {
		if err != nil {
			t.Errorf("reserve %d: %v", i, err)
		}
	}
	count := map[string]int{}
	for _, r := range e.replies(t) {
		count[r.Message.Type]++
	}
	if count[stockmsg.TypeReserved] != 10 || count[stockmsg.TypeRejected] != 40 {
		t.Errorf("replies = %v, want 10 reserved and 40 rejected", count)
	}
	if it := e.get(t, "a"); it.Reserved != 10 || it.Available() != 0 {
		t.Errorf("reserved %d available %d, want 10 and 0", it.Reserved, it.Available())
	}
	// Snapshots are written under the item's lock: in order, 9 down to 0.
	updates := e.Outbox(t, topic.Items)[before:]
	for i, u := range updates {
		if got, want := servicetest.Data[stockmsg.ItemUpdated](t, u.Message).Available, int64(9-i); got != want {
			t.Errorf("snapshot %d: available %d, want %d", i, got, want)
		}
	}
	if len(updates) != 10 {
		t.Errorf("%d snapshots, want 10", len(updates))
	}
}

func TestConcurrentMultiLineOrdersDoNotDeadlock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.Widen(t, 20)
	items := []string{"a", "b", "c", "d"}
	for _, id := range items {
		e.item(t, id, 1000)
	}

	// Each order names the items in another order (rotated, and reversed
	// for odd orders), then gives them back.
	const orders = 40
	errs := servicetest.Race(orders, func(i int) error {
		var lines []stockmsg.Line
		for k := range items {
			j := (i + k) % len(items)
			if i%2 == 1 {
				j = len(items) - 1 - j
			}
			lines = append(lines, line(items[j], 1))
		}
		order := fmt.Sprintf("o%d", i)
		if err := e.Deliver(reserve(t, order, lines...)); err != nil {
			return fmt.Errorf("reserve: %w", err)
		}
		return e.Deliver(release(t, order))
	})

	for i, err := range errs {
		if err != nil {
			t.Errorf("order %d: %v", i, err)
		}
	}
	count := map[string]int{}
	for _, r := range e.replies(t) {
		count[r.Message.Type]++
	}
	if count[stockmsg.TypeReserved] != orders || count[stockmsg.TypeReleased] != orders {
		t.Errorf("replies = %v, want %d reserved and %d released", count, orders, orders)
	}
	for _, id := range items {
		if got := e.get(t, id).Reserved; got != 0 {
			t.Errorf("%s reserved = %d, want 0", id, got)
		}
	}
}
