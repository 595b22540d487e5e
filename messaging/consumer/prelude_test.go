package consumer_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/messaging/servicetest"
)

// A Lock that sends a batch takes the inbox claim into it: a transaction
// costs BEGIN, that batch and COMMIT. Lock sees every message, a
// duplicate too, and the handler only those the claim found new.
func TestTheInboxClaimGoesWithTheLocksRoundTrip(t *testing.T) {
	f := newFixture(t)
	pool, statements := servicetest.CountingPool(t, f.db)
	f.pool = pool
	var mu sync.Mutex
	locked := map[string]int{}
	f.lock = func(ctx context.Context, tx pgx.Tx, ds []consumer.Delivery) error {
		q := &pgx.Batch{}
		claimed := postgres.TakePrelude(ctx, q)
		q.Queue(`SELECT count(*) FROM effects`)
		br := tx.SendBatch(ctx, q)
		defer br.Close()
		if err := claimed(br); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, d := range ds {
			locked[d.Message.ID.String()]++
		}
		return br.Close()
	}
	f.wrap = func(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
		c, _ := f.calls.LoadOrStore(d.Message.ID.String(), new(atomic.Int64))
		c.(*atomic.Int64).Add(1)
		return nil
	}
	f.start(5)
	dup, next := f.message("k", 1), f.message("k", 2)
	f.send("k", dup)
	f.send("k", dup, next)
	// Until both messages are handled and every transaction has
	// committed: three round trips a claim, if the claims rode along.
	deadline := time.Now().Add(10 * time.Second)
	for f.callsOf(next) == 0 || statements.RoundTrips() < 3*statements.Count("INSERT INTO inbox") {
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // nothing more comes
	handled := func(id string) int64 {
		c, ok := f.calls.Load(id)
		if !ok {
			return 0
		}
		return c.(*atomic.Int64).Load()
	}
	mu.Lock()
	defer mu.Unlock()
	if got := handled(dup.ID.String()); got != 1 {
		t.Errorf("the duplicated message was handled %d times, want once", got)
	}
	if got := handled(next.ID.String()); got != 1 {
		t.Errorf("the next message was handled %d times, want once", got)
	}
	if got := locked[dup.ID.String()]; got != 2 {
		t.Errorf("Lock saw the duplicated message %d times, want both deliveries", got)
	}
	claims := statements.Count("INSERT INTO inbox")
	if claims < 1 || claims > 2 {
		t.Fatalf("%d inbox claims for two deliveries of up to two batches", claims)
	}
	if got, want := statements.RoundTrips(), 3*claims; got != want {
		t.Errorf("%d round trips for %d transactions, want %d: BEGIN, the claim with the locks, COMMIT", got, claims, want)
	}
}
