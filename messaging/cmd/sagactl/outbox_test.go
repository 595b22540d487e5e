package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/outbox"
	"github.com/purchase-saga/messaging/schema"
	"github.com/purchase-saga/messaging/testdb"
)

func runOutbox(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String() + errOut.String(), err
}

// An operator sees rows set aside in outbox status, lists them with their
// reason, and queues them again with outbox retry.
func TestOutboxFailedRowsAreShownListedAndRetried(t *testing.T) {
	db := testdb.New(t, func(ctx context.Context, db *sql.DB) error {
		return schema.Up(ctx, db)
	})
	ctx := context.Background()
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := envelope.New("test.event", "k", map[string]int{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := outbox.Write(ctx, tx, outbox.Record{Topic: "events", Key: "k", Message: m}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// What the relay does with a row the broker refuses.
	if _, err := db.Pool.Exec(ctx, `WITH aside AS (UPDATE outbox SET failed_at = now(), error = 'Message Size Too Large')
		UPDATE outbox_relay SET published_to = (SELECT max(id) FROM outbox)`); err != nil {
		t.Fatal(err)
	}
	spec := "order=" + db.URL

	out, err := runOutbox(t, "outbox", "status", "--db", spec)
	if err != nil || !strings.Contains(out, "FAILED") || !strings.Contains(strings.Fields(strings.Split(out, "\n")[1])[3], "1") {
		t.Errorf("outbox status = %q, %v; want one failed row", out, err)
	}
	out, err = runOutbox(t, "outbox", "failed", "--db", spec)
	if err != nil || !strings.Contains(out, "Message Size Too Large") || !strings.Contains(out, "events") {
		t.Errorf("outbox failed = %q, %v; want the row with its topic and reason", out, err)
	}
	if _, err := runOutbox(t, "outbox", "retry", "--db", spec); !errors.Is(err, errUsage) {
		t.Errorf("outbox retry without --id or --all: err %v, want a usage error", err)
	}
	out, err = runOutbox(t, "outbox", "retry", "--db", spec, "--all")
	if err != nil || !strings.Contains(out, "queued 1 row") {
		t.Errorf("outbox retry --all = %q, %v; want 1 row queued", out, err)
	}
	st, err := outbox.ReadStatus(ctx, db.Pool)
	if err != nil || st.Unpublished != 1 || st.Failed != 0 {
		t.Errorf("after retry: status %+v, %v; want 1 unpublished, 0 failed", st, err)
	}
}
