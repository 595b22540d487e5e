package postgres

import (
	"context"
	"database/sql"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	msgpg "github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/messaging/testdb"
	"github.com/purchase-saga/migrations"

	"github.com/purchase-saga/payment-service/internal/payment"
)

func newDB(t *testing.T) *testdb.DB {
	t.Helper()
	return testdb.New(t, func(ctx context.Context, db *sql.DB) error {
		return migrations.Up(ctx, db, migrations.Payment)
	})
}

// exec runs sql on pool, failing the test on an error.
func exec(t *testing.T, db *testdb.DB, sql string, args ...any) {
	t.Helper()
	if _, err := db.Pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

// begin starts a transaction on pool, rolled back when the test ends, and
// returns it with a context carrying its hooks, as a consumer's.
func begin(t *testing.T, pool interface {
	Begin(context.Context) (pgx.Tx, error)
}) (context.Context, pgx.Tx) {
	t.Helper()
	tx, err := pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	ctx, _ := msgpg.WithTxHooks(context.Background())
	return ctx, tx
}

// lockedElsewhere reports whether another transaction finds order's
// advisory lock taken, and the row of account taken (FOR UPDATE NOWAIT).
func lockedElsewhere(t *testing.T, db *testdb.DB, order, account string) (orderLocked, accountLocked bool) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var free bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))`, order).Scan(&free); err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, `SELECT id FROM accounts WHERE id = $1 FOR UPDATE NOWAIT`, account)
	if err != nil && msgpg.Code(err) != "55P03" {
		t.Fatal(err)
	}
	return !free, err != nil
}

// LockBatch, in its one round trip, takes the orders' locks, reads their
// charges (nil for an order without one), and locks and reads the given
// accounts and those the refunded orders are charged to (nil for an
// account that does not exist), and no others; the transaction's hooks
// then know the orders locked, so LockOrder sends nothing for them.
func TestLockBatchLocksAndReadsWhatTheBatchNeeds(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	for _, id := range []string{"a", "b", "c", "d"} {
		exec(t, db, `INSERT INTO accounts (id, currency, balance_cents) VALUES ($1, 'EUR', 100)`, id)
	}
	exec(t, db, `INSERT INTO charges (order_id, account_id, amount_cents, status) VALUES
		('p1', 'c', 10, 'CHARGED'), ('p2', 'd', 20, 'REFUNDED'), ('p3', '', 0, 'CANCELLED'), ('p4', 'b', 30, 'CHARGED')`)

	pool, count := servicetest.CountingPool(t, db)
	ctx, tx := begin(t, pool)
	s := New(tx)
	count.Reset()
	// p4 is charged to b, but is not among the refunds.
	err := s.LockBatch(ctx, []string{"o1", "p1", "p2", "p3", "p4", "gone"}, []string{"a", "nobody"}, []string{"p1", "p2", "p3", "gone"})
	if err != nil {
		t.Fatal(err)
	}
	if got := count.Total(); got != 3 {
		t.Errorf("LockBatch sent %d statements, want 3 (locks, charges, accounts)", got)
	}
	b := s.batch(ctx)
	if b == nil {
		t.Fatal("no batch after LockBatch")
	}
	charges := map[string]string{}
	for id, c := range b.charges {
		charges[id] = "none"
		if c != nil {
			charges[id] = string(c.Status) + " " + c.AccountID
		}
	}
	wantCharges := map[string]string{"o1": "none", "gone": "none",
		"p1": "CHARGED c", "p2": "REFUNDED d", "p3": "CANCELLED ", "p4": "CHARGED b"}
	if !reflect.DeepEqual(charges, wantCharges) {
		t.Errorf("charges %v, want %v", charges, wantCharges)
	}
	accounts := map[string]*payment.Account{}
	for id, a := range b.accounts {
		accounts[id] = a
	}
	wantAccounts := map[string]*payment.Account{
		"a": {ID: "a", BalanceCents: 100, Currency: "EUR"}, "c": {ID: "c", BalanceCents: 100, Currency: "EUR"}, "nobody": nil,
	}
	if !reflect.DeepEqual(accounts, wantAccounts) {
		t.Errorf("accounts %v, want %v", accounts, wantAccounts)
	}

	for _, tc := range []struct {
		order, account             string
		orderLocked, accountLocked bool
	}{
		{"o1", "a", true, true},
		{"p1", "c", true, true},
		{"p4", "b", true, false},
		{"other", "d", false, false},
	} {
		order, account := lockedElsewhere(t, db, tc.order, tc.account)
		if order != tc.orderLocked || account != tc.accountLocked {
			t.Errorf("order %s locked %v, account %s locked %v; want %v, %v",
				tc.order, order, tc.account, account, tc.orderLocked, tc.accountLocked)
		}
	}

	count.Reset()
	for _, id := range []string{"o1", "p1", "gone"} {
		if err := msgpg.LockKey(ctx, s.tx, id); err != nil {
			t.Fatal(err)
		}
	}
	if got := count.Total(); got != 0 {
		t.Errorf("the lock of the batch's orders sent %d statements, want none", got)
	}
	if err := msgpg.LockKey(ctx, s.tx, "other"); err != nil {
		t.Fatal(err)
	}
	if got := count.Count("SELECT pg_advisory_xact_lock"); got != 1 {
		t.Errorf("the lock of another order sent %d locks, want 1", got)
	}
	if err := s.LockBatch(ctx, []string{"o2"}, nil, nil); err == nil {
		t.Error("a second LockBatch in the transaction succeeded")
	}
}

// A batch with nothing to lock sends nothing, and its commands still
// work in memory.
func TestLockBatchOfNothingSendsNothing(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	pool, count := servicetest.CountingPool(t, db)
	ctx, tx := begin(t, pool)
	s := New(tx)
	count.Reset()
	if err := s.LockBatch(ctx, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := count.Total(); got != 0 {
		t.Errorf("LockBatch of nothing sent %d statements", got)
	}
	if s.batch(ctx) == nil {
		t.Error("no batch after LockBatch")
	}
}

// A lock LockBatch cannot take fails it as before: an order's lock as
// LockKeys reports it, an account's as "lock accounts", both keeping
// their SQLSTATE (transient), and no batch is left behind.
func TestLockBatchReportsTheLockItCouldNotTake(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	exec(t, db, `INSERT INTO accounts (id, currency, balance_cents) VALUES ('a', 'EUR', 100)`)
	for _, tc := range []struct {
		name, hold, prefix string
	}{
		{"order", `SELECT pg_advisory_xact_lock(hashtextextended('o1', 0))`, "postgres: lock 2 keys: "},
		{"account", `SELECT id FROM accounts WHERE id = 'a' FOR UPDATE`, "postgres: lock accounts: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			holder, err := db.Pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = holder.Rollback(ctx) }()
			if _, err := holder.Exec(ctx, tc.hold); err != nil {
				t.Fatal(err)
			}
			hctx, tx := begin(t, db.Pool)
			defer func() { _ = tx.Rollback(ctx) }()
			if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '100ms'`); err != nil {
				t.Fatal(err)
			}
			s := New(tx)
			err = s.LockBatch(hctx, []string{"o1", "o2"}, []string{"a"}, nil)
			if err == nil || !strings.HasPrefix(err.Error(), tc.prefix) || msgpg.Code(err) != "55P03" || !msgpg.IsTransient(err) {
				t.Errorf("LockBatch: %v, want %q... with SQLSTATE 55P03", err, tc.prefix)
			}
			if s.batch(hctx) != nil {
				t.Error("a failed LockBatch left a batch")
			}
		})
	}
}
