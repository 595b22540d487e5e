package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/servicetest"

	"github.com/purchase-saga/stock-service/internal/postgres"
	"github.com/purchase-saga/stock-service/internal/stock"
)

// Update locks the item from its read to its commit: a second restock
// waits for the first and adds to what the first left, so two restocks of
// 3 from 0 end at 6, and their snapshots enter the outbox in that order.
func TestUpdateLocksTheItem(t *testing.T) {
	t.Parallel()
	db := seed(t, 0)
	ctx := context.Background()
	store := postgres.Open(db.Pool)
	before := len(servicetest.Outbox(t, db.Pool, topic.Items))

	inside, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	letGo := func() { releaseOnce.Do(func() { close(release) }) }
	defer letGo() // a failing test must not leave the first update waiting
	type result struct {
		it  stock.Item
		err error
	}
	first := make(chan result, 1)
	go func() {
		it, err := store.Update(ctx, "a", func(it *stock.Item) error {
			close(inside)
			<-release // holds the item meanwhile
			return it.Restock(3)
		})
		first <- result{it, err}
	}()
	<-inside
	secondRan := make(chan stock.Item, 1)
	second := make(chan result, 1)
	go func() {
		it, err := store.Update(ctx, "a", func(it *stock.Item) error {
			secondRan <- *it
			return it.Restock(3)
		})
		second <- result{it, err}
	}()
	select {
	case seen := <-secondRan:
		t.Error("the second update read the item while the first held it")
		secondRan <- seen
	case <-time.After(300 * time.Millisecond):
	}
	letGo()
	r1, r2 := <-first, <-second
	if r1.err != nil || r2.err != nil {
		t.Fatalf("updates: %v, %v", r1.err, r2.err)
	}
	if seen := <-secondRan; seen.OnHand != 3 {
		t.Errorf("the second update saw %d on hand, want the first's 3", seen.OnHand)
	}
	if r1.it.OnHand != 3 || r2.it.OnHand != 6 {
		t.Errorf("updates returned %d and %d on hand, want 3 and 6", r1.it.OnHand, r2.it.OnHand)
	}
	if it := item(t, db); it.OnHand != 6 || it.Name != "A" {
		t.Errorf("item %+v, want A with 6 on hand", it)
	}
	snapshots := servicetest.Outbox(t, db.Pool, topic.Items)[before:]
	if len(snapshots) != 2 {
		t.Fatalf("%d snapshots, want 2", len(snapshots))
	}
	for i, want := range []int64{3, 6} {
		s := snapshots[i]
		if got := servicetest.Data[stockmsg.ItemUpdated](t, s.Message); s.Key != "a" || got.ID != "a" || got.Available != want {
			t.Errorf("snapshot %d: key %s %+v, want item a with %d available", i, s.Key, got, want)
		}
	}
}

// An update whose function fails stores nothing, neither the item nor a
// snapshot: fn's own error, a rule of the domain (a restock past what
// on_hand holds), a change the store refuses (reserved units) alike; an
// item that is not there is stock.ErrNotFound.
func TestUpdateStoresNothingWhenItFails(t *testing.T) {
	t.Parallel()
	db := seed(t, 2)
	ctx := context.Background()
	store := postgres.Open(db.Pool)
	want := item(t, db)
	before := len(servicetest.Outbox(t, db.Pool, topic.Items))
	errNo := errors.New("no")

	_, err := store.Update(ctx, "a", func(it *stock.Item) error {
		it.OnHand, it.Name = 1, "B"
		return errNo
	})
	if !errors.Is(err, errNo) {
		t.Errorf("Update = %v, want fn's error", err)
	}
	_, err = store.Update(ctx, "a", func(it *stock.Item) error {
		it.OnHand = 1<<63 - 1 - stock.MaxRestock + 1 // one unit short of room
		return it.Restock(stock.MaxRestock)
	})
	if !errors.Is(err, stock.ErrInvalid) || err.Error() != "invalid: restock a: quantity out of range" {
		t.Errorf("Update past the largest on_hand = %v, want invalid: restock a: quantity out of range", err)
	}
	_, err = store.Update(ctx, "a", func(it *stock.Item) error {
		it.Reserved++
		return nil
	})
	if err == nil {
		t.Error("Update changing the reserved units succeeded, want it refused")
	}
	if got := item(t, db); got != want {
		t.Errorf("item %+v after failed updates, want %+v", got, want)
	}
	if n := len(servicetest.Outbox(t, db.Pool, topic.Items)); n != before {
		t.Errorf("%d snapshots after failed updates, want %d", n, before)
	}
	if _, err := store.Update(ctx, "nope", func(*stock.Item) error { return nil }); !errors.Is(err, stock.ErrNotFound) {
		t.Errorf("Update of no item = %v, want stock.ErrNotFound", err)
	}
}
