package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/purchase-saga/messaging/testdb"
)

func TestIsTransient(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&pgconn.PgError{Code: "40001"}, true},
		{&pgconn.PgError{Code: "40P01"}, true},
		{&pgconn.PgError{Code: "57P01"}, true},
		{&pgconn.PgError{Code: "08006"}, true},
		{fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: "40001"}), true},
		{io.ErrUnexpectedEOF, true},
		{errors.New("conn closed"), true},
		{&pgconn.PgError{Code: "23505"}, false}, // unique violation
		{&pgconn.PgError{Code: "42P01"}, false}, // undefined table
		{&pgconn.PgError{Code: "23514"}, false}, // check violation
		{errors.New("handler bug"), false},
		{context.Canceled, false},
	}
	for _, tt := range tests {
		if got := IsTransient(tt.err); got != tt.want {
			t.Errorf("IsTransient(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	if !IsConflict(&pgconn.PgError{Code: "40P01"}) || IsConflict(&pgconn.PgError{Code: "57P01"}) {
		t.Error("IsConflict should hold for deadlocks and serialization failures only")
	}
	if !IsOutOfRange(fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: "22003"})) || IsOutOfRange(&pgconn.PgError{Code: "23514"}) {
		t.Error("IsOutOfRange should hold for numeric_value_out_of_range only")
	}
}

func TestInTx(t *testing.T) {
	t.Parallel()
	db := testdb.New(t, nil)
	ctx := context.Background()
	tx := func(tx pgx.Tx) pgx.Tx { return tx }
	exec := func(sql string) func(pgx.Tx) error {
		return func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, sql)
			return err
		}
	}
	// Deferred, the unique check runs at commit, after fn has succeeded.
	if err := InTx(ctx, db.Pool, tx, exec(`CREATE TABLE t (n int UNIQUE DEFERRABLE INITIALLY DEFERRED)`)); err != nil {
		t.Fatal(err)
	}
	if err := InTx(ctx, db.Pool, tx, exec(`INSERT INTO t VALUES (1)`)); err != nil {
		t.Errorf("insert: %v", err)
	}
	boom := errors.New("boom")
	err := InTx(ctx, db.Pool, tx, func(tx pgx.Tx) error {
		if err := exec(`INSERT INTO t VALUES (2)`)(tx); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("failing fn: err = %v, want boom", err)
	}
	var pgErr *pgconn.PgError
	if err := InTx(ctx, db.Pool, tx, exec(`INSERT INTO t VALUES (1)`)); !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		t.Errorf("failed commit: err = %v, want the commit's unique violation", err)
	}
	var got []int
	if err := InTx(ctx, db.Pool, tx, func(tx pgx.Tx) (err error) {
		rows, _ := tx.Query(ctx, `SELECT n FROM t ORDER BY n`)
		got, err = pgx.CollectRows(rows, pgx.RowTo[int])
		return err
	}); err != nil || len(got) != 1 || got[0] != 1 {
		t.Errorf("rows = %v (%v), want only the committed 1", got, err)
	}
}

// A pool's sessions are ended by the server when they idle
// inside a transaction, unless the URL says otherwise.
func TestConnectSetsSessionDefaultsTheURLMayOverride(t *testing.T) {
	db := testdb.New(t, nil)
	ctx := context.Background()
	show := func(url, setting string) string {
		t.Helper()
		pool, err := Connect(ctx, url, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		var v string
		if err := pool.QueryRow(ctx, "SHOW "+setting).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got := show(db.URL, "plan_cache_mode"); got != "auto" {
		t.Errorf("plan_cache_mode %q, want the server's default, auto", got)
	}
	if got := show(db.URL, "idle_in_transaction_session_timeout"); got != IdleInTransactionTimeout {
		t.Errorf("idle_in_transaction_session_timeout %q, want %s", got, IdleInTransactionTimeout)
	}
	sep := "?"
	if strings.Contains(db.URL, "?") {
		sep = "&"
	}
	if got := show(db.URL+sep+"plan_cache_mode=force_generic_plan", "plan_cache_mode"); got != "force_generic_plan" {
		t.Errorf("plan_cache_mode %q with the URL asking for force_generic_plan", got)
	}
	if got := show(db.URL+sep+"idle_in_transaction_session_timeout=0", "idle_in_transaction_session_timeout"); got != "0" {
		t.Errorf("idle_in_transaction_session_timeout %q with the URL asking for 0", got)
	}
}
