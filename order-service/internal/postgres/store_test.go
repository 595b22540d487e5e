package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/testdb"
	"github.com/purchase-saga/migrations"
	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
)

// newOrder stores a pending order of the steps stock and payment and
// returns it.
func newOrder(t *testing.T, store *postgres.Store) order.Order {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	o, err := order.New(uuid.NewString(), "c1", []order.Line{{ItemID: "pen", Quantity: 1, UnitPriceCents: 100}},
		"EUR", []order.StepName{"stock", "payment"}, now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	err = store.InTx(ctx, func(tx *postgres.Tx) error {
		inserted, err := tx.Orders.Insert(ctx, []postgres.NewOrder{{Order: o}})
		if err == nil && !inserted[o.ID] {
			err = errors.New("not inserted")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func newStore(t *testing.T) (*postgres.Store, *testdb.DB) {
	t.Helper()
	db := testdb.New(t, func(ctx context.Context, db *sql.DB) error { return migrations.Up(ctx, db, migrations.Order) })
	return postgres.NewStore(db.Pool), db
}

// Two updates of one order at once: the second reads the order only once
// the first committed, so neither change is lost, and the order that the
// second makes terminal is announced.
func TestUpdateLocksTheOrder(t *testing.T) {
	store, db := newStore(t)
	ctx := context.Background()
	o := newOrder(t, store)
	listener, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close(ctx)
	if _, err := listener.Exec(ctx, "LISTEN "+postgres.EndedChannel); err != nil {
		t.Fatal(err)
	}

	inside, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	letGo := func() { releaseOnce.Do(func() { close(release) }) }
	defer letGo() // a failing test must not leave the first update waiting
	firstDone := make(chan error, 1)
	go func() {
		firstDone <- store.Update(ctx, o.ID, func(o *order.Order) error {
			close(inside)
			<-release // holds the order meanwhile
			_, err := o.Apply(order.Reply{Step: "stock", Outcome: order.Succeeded}, time.Now().UTC())
			return err
		})
	}()
	<-inside
	secondRan := make(chan order.Order, 1)
	secondDone := make(chan error, 1)
	go func() {
		secondDone <- store.Update(ctx, o.ID, func(o *order.Order) error {
			secondRan <- *o
			_, err := o.Apply(order.Reply{Step: "payment", Outcome: order.Succeeded}, time.Now().UTC())
			return err
		})
	}()
	select {
	case seen := <-secondRan:
		t.Error("the second update read the order while the first held it")
		secondRan <- seen
	case <-time.After(300 * time.Millisecond):
	}
	letGo()
	if err := <-firstDone; err != nil {
		t.Fatalf("first update: %v", err)
	}
	if err := <-secondDone; err != nil {
		t.Fatalf("second update: %v", err)
	}
	if seen := <-secondRan; seen.Steps[0].Status != order.StepSucceeded {
		t.Errorf("the second update saw stock %s, want the first's SUCCEEDED", seen.Steps[0].Status)
	}
	got, err := store.Orders().Get(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	stock, _ := got.Steps.Get("stock")
	payment, _ := got.Steps.Get("payment")
	if got.Status != order.Completed || stock.Status != order.StepSucceeded || payment.Status != order.StepSucceeded {
		t.Errorf("order %s with stock %s and payment %s, want COMPLETED with both SUCCEEDED", got.Status, stock.Status, payment.Status)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	note, err := listener.WaitForNotification(wctx)
	if err != nil || note.Payload != o.ID {
		t.Errorf("notification %+v (%v), want the order's id", note, err)
	}
}

// An update that fails stores nothing; an order that is not there is
// order.ErrNotFound.
func TestUpdateStoresNothingWhenItFails(t *testing.T) {
	store, _ := newStore(t)
	ctx := context.Background()
	o := newOrder(t, store)
	errNo := errors.New("no")
	err := store.Update(ctx, o.ID, func(o *order.Order) error {
		_, _ = o.Apply(order.Reply{Step: "stock", Outcome: order.Refused, Reason: "out_of_stock"}, time.Now().UTC())
		return errNo
	})
	if !errors.Is(err, errNo) {
		t.Errorf("Update = %v, want fn's error", err)
	}
	if got, err := store.Orders().Get(ctx, o.ID); err != nil || got.Status != order.Pending {
		t.Errorf("order %s (%v) after a failed update, want PENDING", got.Status, err)
	}
	err = store.Update(ctx, uuid.NewString(), func(*order.Order) error { return nil })
	if !errors.Is(err, order.ErrNotFound) {
		t.Errorf("Update of no order = %v, want order.ErrNotFound", err)
	}
}
