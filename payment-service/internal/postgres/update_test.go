package postgres

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/purchase-saga/messaging/testdb"

	"github.com/purchase-saga/payment-service/internal/payment"
)

// newAccount opens account id, empty, in db.
func newAccount(t *testing.T, db *testdb.DB, id string) {
	t.Helper()
	ctx := context.Background()
	err := Open(db.Pool).InTx(ctx, func(s *Store) error {
		_, _, err := s.CreateAccount(ctx, id, "EUR")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ledger returns account id's balance and its deposits' amounts, oldest
// first.
func ledger(t *testing.T, db *testdb.DB, id string) (balance int64, deposits []int64) {
	t.Helper()
	ctx := context.Background()
	if err := db.Pool.QueryRow(ctx, `SELECT balance_cents FROM accounts WHERE id = $1`, id).Scan(&balance); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Pool.Query(ctx, `SELECT amount_cents FROM deposits WHERE account_id = $1 ORDER BY id`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var amount int64
		if err := rows.Scan(&amount); err != nil {
			t.Fatal(err)
		}
		deposits = append(deposits, amount)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return balance, deposits
}

// Update locks the account from its read to its commit: a second deposit
// waits for the first and adds to what the first left, so two deposits
// of 300 into an empty account end at 600, each with its deposits row.
func TestUpdateLocksTheAccount(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	newAccount(t, db, "c1")
	ctx := context.Background()
	store := Open(db.Pool)

	inside, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	letGo := func() { releaseOnce.Do(func() { close(release) }) }
	defer letGo() // a failing test must not leave the first update waiting
	type result struct {
		acct      payment.Account
		depositID int64
		err       error
	}
	first := make(chan result, 1)
	go func() {
		acct, id, err := store.Update(ctx, "c1", func(a *payment.Account) error {
			close(inside)
			<-release // holds the account meanwhile
			return a.Deposit(300)
		})
		first <- result{acct, id, err}
	}()
	<-inside
	secondRan := make(chan payment.Account, 1)
	second := make(chan result, 1)
	go func() {
		acct, id, err := store.Update(ctx, "c1", func(a *payment.Account) error {
			secondRan <- *a
			return a.Deposit(300)
		})
		second <- result{acct, id, err}
	}()
	select {
	case seen := <-secondRan:
		t.Error("the second update read the account while the first held it")
		secondRan <- seen
	case <-time.After(300 * time.Millisecond):
	}
	letGo()
	r1, r2 := <-first, <-second
	if r1.err != nil || r2.err != nil {
		t.Fatalf("updates: %v, %v", r1.err, r2.err)
	}
	if seen := <-secondRan; seen.BalanceCents != 300 {
		t.Errorf("the second update saw a balance of %d, want the first's 300", seen.BalanceCents)
	}
	if r1.acct.BalanceCents != 300 || r2.acct.BalanceCents != 600 {
		t.Errorf("updates returned balances %d and %d, want 300 and 600", r1.acct.BalanceCents, r2.acct.BalanceCents)
	}
	if r1.depositID == 0 || r2.depositID <= r1.depositID {
		t.Errorf("deposit ids %d and %d, want two, in the order of the updates", r1.depositID, r2.depositID)
	}
	if balance, deposits := ledger(t, db, "c1"); balance != 600 || len(deposits) != 2 || deposits[0] != 300 || deposits[1] != 300 {
		t.Errorf("balance %d with deposits %v, want 600 with [300 300]", balance, deposits)
	}
}

// An update whose function fails stores nothing, neither the balance nor
// a deposit: fn's own error, a rule of the domain (a deposit past the
// largest balance), a change the store refuses (a fall of the balance)
// alike; an account that is not there is payment.ErrNotFound.
func TestUpdateStoresNothingWhenItFails(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	newAccount(t, db, "c1")
	ctx := context.Background()
	store := Open(db.Pool)
	if _, _, err := store.Update(ctx, "c1", func(a *payment.Account) error { return a.Deposit(500) }); err != nil {
		t.Fatal(err)
	}
	errNo := errors.New("no")

	_, _, err := store.Update(ctx, "c1", func(a *payment.Account) error {
		_ = a.Deposit(100)
		return errNo
	})
	if !errors.Is(err, errNo) {
		t.Errorf("Update = %v, want fn's error", err)
	}
	_, _, err = store.Update(ctx, "c1", func(a *payment.Account) error {
		a.BalanceCents = 1<<63 - 1 // as if it held all it can
		return a.Deposit(1)
	})
	if !errors.Is(err, payment.ErrInvalid) || err.Error() != "invalid: deposit to c1: amount out of range" {
		t.Errorf("Update past the largest balance = %v, want invalid: deposit to c1: amount out of range", err)
	}
	_, _, err = store.Update(ctx, "c1", func(a *payment.Account) error {
		a.BalanceCents -= 100
		return nil
	})
	if err == nil {
		t.Error("Update lowering the balance succeeded, want it refused")
	}
	if balance, deposits := ledger(t, db, "c1"); balance != 500 || len(deposits) != 1 || deposits[0] != 500 {
		t.Errorf("balance %d with deposits %v after failed updates, want 500 with [500]", balance, deposits)
	}
	if _, _, err := store.Update(ctx, "nope", func(*payment.Account) error { return nil }); !errors.Is(err, payment.ErrNotFound) {
		t.Errorf("Update of no account = %v, want payment.ErrNotFound", err)
	}
}
