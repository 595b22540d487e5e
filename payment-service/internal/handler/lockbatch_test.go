package handler_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/servicetest"

	"github.com/purchase-saga/payment-service/internal/handler"
)

// The lock phase of a batch (Handler.Lock) takes the orders' locks, reads
// their charges and locks the accounts in one round trip, whether the
// batch charges, refunds or both (three statements, sent together as a
// pgx.Batch, once the connection has prepared them); then the handlers'
// LockOrder sends nothing, the orders being known locked.
func TestBatchLockPhaseIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := []string{"x", "y", "z"}
	for _, id := range accounts {
		e.account(t, id, 10_000)
	}
	count := &statements{}
	cfg, err := pgxpool.ParseConfig(e.DB.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns, cfg.ConnConfig.Tracer = 1, count // one connection: its statements stay prepared
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)

	h := handler.New("payment-service")
	type phase struct {
		statements, roundTrips int
		sql                    []string
	}
	var lock, rest phase
	apply := func(ds ...consumer.Delivery) {
		t.Helper()
		err := servicetest.ApplyBatch(pool, func(ctx context.Context, tx pgx.Tx, ds []consumer.Delivery) error {
			count.reset() // the transaction's begin
			err := h.Lock(ctx, tx, ds)
			lock.statements, lock.roundTrips, lock.sql = count.reset()
			return err
		}, h.Handle, ds...)
		if err != nil {
			t.Fatal(err)
		}
		rest.statements, rest.roundTrips, rest.sql = count.reset()
	}
	charges := func(from, to int) []consumer.Delivery {
		var ds []consumer.Delivery
		for i := from; i < to; i++ {
			ds = append(ds, charge(t, fmt.Sprintf("o%d", i), accounts[i%len(accounts)], 100))
		}
		return ds
	}
	refunds := func(orders ...string) []consumer.Delivery {
		var ds []consumer.Delivery
		for _, o := range orders {
			ds = append(ds, refund(t, o))
		}
		return ds
	}
	check := func(what string) {
		t.Helper()
		if lock.roundTrips != 1 || lock.statements != 3 {
			t.Errorf("%s: the lock phase sent %d statements in %d round trips, want 3 in 1:\n\t%s",
				what, lock.statements, lock.roundTrips, strings.Join(lock.sql, "\n\t"))
		}
		for _, sql := range rest.sql {
			if strings.Contains(sql, "hashtextextended") { // as msgpg.LockKey(s) lock a key
				t.Errorf("%s: a handler locked an order again: %s", what, sql)
			}
		}
		t.Logf("%s: lock phase %d statements in %d round trips; then %d in %d till the commit",
			what, lock.statements, lock.roundTrips, rest.statements, rest.roundTrips)
	}

	apply(charges(0, 3)...) // prepares the statements of a batch of charges
	apply(charges(3, 23)...)
	check("20 charges")

	apply(refunds("o0", "never")...) // prepares those of a batch of refunds
	apply(refunds("o3", "o4", "o5", "o6", "o6", "none")...)
	check("refunds")

	mixed := append(refunds("o24"), charges(23, 26)...) // o24 refunded before its charge
	apply(append(mixed, refunds("o7", "o8")...)...)
	check("charges and refunds")

	// Charged: o1, o2, o9..o22 and o23, o25 (o24 was refunded before its
	// charge, which it cancelled); 100 each, taken in turn from x, y, z.
	want := map[string]int64{}
	for _, i := range []int{1, 2, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 25} {
		want[accounts[i%len(accounts)]] += 100
	}
	for _, id := range accounts {
		if got := 10_000 - e.balance(t, id); got != want[id] {
			t.Errorf("account %s lost %d, want %d", id, got, want[id])
		}
	}
	if got := e.status(t, "o24"); got != "CANCELLED" {
		t.Errorf("o24 is %q, want CANCELLED", got)
	}
}
