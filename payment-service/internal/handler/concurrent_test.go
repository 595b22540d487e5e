package handler_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/purchase-saga/messaging/servicetest"

	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/payment-service/internal/postgres"
)

func TestConcurrentChargesNeverOverdraw(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.Widen(t, 20)
	e.account(t, "c1", 1000)

	errs := servicetest.Race(50, func(i int) error { return e.Deliver(charge(t, fmt.Sprintf("o%d", i), "c1", 100)) })

	for i, err := range errs {
		if err != nil {
			t.Errorf("charge %d: %v", i, err)
		}
	}
	count := map[string]int{}
	for _, r := range e.replies(t) {
		count[r.Message.Type]++
	}
	if count[paymentmsg.TypeCharged] != 10 || count[paymentmsg.TypeRejected] != 40 {
		t.Errorf("replies = %v, want 10 charged and 40 rejected", count)
	}
	if got := e.balance(t, "c1"); got != 0 {
		t.Errorf("balance = %d, want 0", got)
	}
}

// Balances plus the amounts held by CHARGED charges always equal the money
// deposited, whatever mix of deposits, charges, duplicate charges, refunds
// and early refunds runs at once.
func TestMoneyIsConserved(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.Widen(t, 20)
	const accounts = 4
	for a := range accounts {
		e.account(t, fmt.Sprintf("c%d", a), 500)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	type op struct {
		kind    int
		order   string
		account string
		cents   int64
	}
	ops := make([]op, 200)
	for i := range ops {
		ops[i] = op{kind: rng.IntN(4), order: fmt.Sprintf("o%d", rng.IntN(60)),
			account: fmt.Sprintf("c%d", rng.IntN(accounts)), cents: 1 + rng.Int64N(200)}
	}
	ctx := context.Background()
	errs := servicetest.Race(len(ops), func(i int) error {
		switch o := ops[i]; o.kind {
		case 0, 1:
			return e.Deliver(charge(t, o.order, o.account, o.cents))
		case 2:
			return e.Deliver(refund(t, o.order))
		default:
			return postgres.Open(e.DB.Pool).InTx(ctx, func(s *postgres.Store) error {
				_, _, err := s.Deposit(ctx, o.account, o.cents)
				return err
			})
		}
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("op %d %+v: %v", i, ops[i], err)
		}
	}

	var balances, charged, deposited, negative int64
	err := e.DB.Pool.QueryRow(ctx, `SELECT
		(SELECT coalesce(sum(balance_cents), 0) FROM accounts),
		(SELECT coalesce(sum(amount_cents), 0) FROM charges WHERE status = 'CHARGED'),
		(SELECT coalesce(sum(amount_cents), 0) FROM deposits),
		(SELECT count(*) FROM accounts WHERE balance_cents < 0)`).Scan(&balances, &charged, &deposited, &negative)
	if err != nil {
		t.Fatal(err)
	}
	if balances+charged != deposited {
		t.Errorf("balances %d + charged %d = %d, want deposits %d", balances, charged, balances+charged, deposited)
	}
	if negative != 0 {
		t.Errorf("%d accounts overdrawn", negative)
	}
	var statuses int
	if err := e.DB.Pool.QueryRow(ctx, `SELECT count(DISTINCT status) FROM charges`).Scan(&statuses); err != nil {
		t.Fatal(err)
	}
	if statuses < 2 {
		t.Errorf("the mix produced %d kinds of charge outcome; the test needs charges and refunds", statuses)
	}
}
