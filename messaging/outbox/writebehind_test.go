package outbox_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/outbox"
	"github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/messaging/testdb"
)

// In a transaction with hooks (a consumer's batch), Writes are kept and
// inserted together, in the order written, just before the commit: after
// what BeforeCommit functions wrote too, and once.
func TestWritesInATransactionWithHooksAreInsertedTogetherBeforeTheCommit(t *testing.T) {
	db := testdb.New(t, migrate)
	ctx := context.Background()
	seqs := func(q interface {
		QueryRow(context.Context, string, ...any) pgx.Row
	}) string {
		t.Helper()
		var s *string
		if err := q.QueryRow(ctx, `SELECT string_agg(o.headers->>'seq', ',' ORDER BY o.id)
			FROM outbox o`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		if s == nil {
			return ""
		}
		return *s
	}
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
	hctx, hooks := postgres.WithTxHooks(ctx)
	for seq := 1; seq <= 3; seq++ {
		if err := outbox.Write(hctx, tx, record(t, "k", seq)); err != nil {
			t.Fatal(err)
		}
	}
	// A function run before the commit still writes before the flush.
	postgres.BeforeCommit(hctx, "late", func(ctx context.Context) error {
		return outbox.Write(ctx, tx, record(t, "k", 4), record(t, "k", 5))
	})
	if got := seqs(tx); got != "" {
		t.Fatalf("rows %q in the transaction before its hooks ran, want none yet", got)
	}
	if err := hooks.BeforeCommit(hctx); err != nil {
		t.Fatal(err)
	}
	if got := seqs(tx); got != "1,2,3,4,5" {
		t.Fatalf("rows %q after the hooks ran, want 1,2,3,4,5", got)
	}
	// A Write after the flush is kept for the next run of the hooks, not lost.
	if err := outbox.Write(hctx, tx, record(t, "k", 6)); err != nil {
		t.Fatal(err)
	}
	if err := hooks.BeforeCommit(hctx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := seqs(db.Pool); got != "1,2,3,4,5,6" {
		t.Errorf("committed rows %q, want 1,2,3,4,5,6", got)
	}
	// Without hooks a Write inserts at once.
	if err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if err := outbox.Write(ctx, tx, record(t, "k", 7)); err != nil {
			return err
		}
		if got := seqs(tx); got != "1,2,3,4,5,6,7" {
			t.Errorf("rows %q right after a Write without hooks, want 1,...,7", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// A flush that sends statements of its own takes the rows kept so far into
// its round trip; rows written after it are still inserted before the
// commit, and nothing is inserted twice.
func TestQueuePendingTakesTheKeptRowsIntoTheCallersBatch(t *testing.T) {
	db := testdb.New(t, migrate)
	ctx := context.Background()
	count := func(q interface {
		QueryRow(context.Context, string, ...any) pgx.Row
	}) (n int, seqs string) {
		t.Helper()
		if err := q.QueryRow(ctx, `SELECT count(*), coalesce(string_agg(headers->>'seq', ',' ORDER BY id), '') FROM outbox`).Scan(&n, &seqs); err != nil {
			t.Fatal(err)
		}
		return n, seqs
	}
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
	hctx, hooks := postgres.WithTxHooks(ctx)
	empty := &pgx.Batch{}
	outbox.QueuePending(hctx, empty)
	if empty.Len() != 0 {
		t.Fatalf("QueuePending queued %d statements with nothing kept", empty.Len())
	}
	for seq := 1; seq <= 2; seq++ {
		if err := outbox.Write(hctx, tx, record(t, "k", seq)); err != nil {
			t.Fatal(err)
		}
	}
	batch := &pgx.Batch{}
	batch.Queue(`SELECT 1`)
	outbox.QueuePending(hctx, batch)
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		t.Fatal(err)
	}
	if n, seqs := count(tx); n != 2 || seqs != "1,2" {
		t.Fatalf("after the caller's batch: %d rows (%s), want 1,2", n, seqs)
	}
	if err := outbox.Write(hctx, tx, record(t, "k", 3)); err != nil {
		t.Fatal(err)
	}
	if err := hooks.BeforeCommit(hctx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n, seqs := count(db.Pool); n != 3 || seqs != "1,2,3" {
		t.Errorf("committed %d rows (%s), want 1,2,3 once each", n, seqs)
	}
}
