package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/purchase-saga/messaging/testdb"
)

// counter is the smallest store: one table, one transaction.
type counter struct{ tx pgx.Tx }

func (c *counter) add(ctx context.Context, n int) error {
	_, err := c.tx.Exec(ctx, `INSERT INTO t VALUES ($1)`, n)
	return err
}

// A unit of work commits what its store did when the work succeeds, and
// nothing of it when the work fails.
func TestDBRunsEachWorkInOneTransactionOfItsStore(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t, nil).Pool
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE t (n int)`); err != nil {
		t.Fatal(err)
	}
	db := NewDB(pool, func(tx pgx.Tx) *counter { return &counter{tx} })
	if err := db.InTx(ctx, func(c *counter) error { return c.add(ctx, 1) }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := db.InTx(ctx, func(c *counter) error {
		if err := c.add(ctx, 2); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("failing work: err = %v, want boom", err)
	}
	var sum int
	if err := pool.QueryRow(ctx, `SELECT coalesce(sum(n), 0) FROM t`).Scan(&sum); err != nil || sum != 1 {
		t.Errorf("sum = %d (%v), want only the committed 1", sum, err)
	}
}

func TestTranslateMakesOutOfRangeTheDomainsInvalidInput(t *testing.T) {
	invalid := errors.New("invalid")
	transient := &pgconn.PgError{Code: "40001"}
	tests := []struct {
		err       error
		want      string
		invalid   bool
		transient bool
	}{
		{fmt.Errorf("exec: %w", &pgconn.PgError{Code: "22003"}), "invalid: deposit to c1: amount out of range", true, false},
		{transient, "postgres: deposit to c1: :  (SQLSTATE 40001)", false, true},
		{errors.New("bug"), "postgres: deposit to c1: bug", false, false},
	}
	for _, tt := range tests {
		err := Translate(tt.err, "deposit to c1", invalid, "amount")
		if err.Error() != tt.want || errors.Is(err, invalid) != tt.invalid || IsTransient(err) != tt.transient {
			t.Errorf("Translate(%v) = %q (invalid %v, transient %v), want %q (%v, %v)",
				tt.err, err, errors.Is(err, invalid), IsTransient(err), tt.want, tt.invalid, tt.transient)
		}
	}
}

// A key asked for and not found is known absent; one found points at its
// row; one not asked for stays unknown.
func TestCollectByKeyKnowsWhatIsAbsent(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t, nil).Pool
	type row struct {
		k string
		n int
	}
	rows, _ := pool.Query(context.Background(), `SELECT k, n FROM (VALUES ('a', 1), ('c', 3)) AS v (k, n) WHERE k = ANY($1)`, []string{"a", "b"})
	m := map[string]*row{}
	err := CollectByKey(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.k, &x.n)
		return x, err
	}, func(x *row) string { return x.k }, []string{"a", "b"}, m)
	if err != nil {
		t.Fatal(err)
	}
	b, bKnown := m["b"]
	_, cKnown := m["c"]
	if a := m["a"]; a == nil || a.n != 1 || !bKnown || b != nil || cKnown || len(m) != 2 {
		t.Errorf("collected %v, want a's row, b known absent, c unknown", m)
	}
}
