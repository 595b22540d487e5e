package outbox

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/testdb"
	"github.com/purchase-saga/migrations"
)

func migrateMessaging(ctx context.Context, db *sql.DB) error {
	return migrations.Up(ctx, db, migrations.Messaging)
}

type discard struct{}

func (discard) WriteMessages(context.Context, ...kafka.Message) error { return nil }

// The relay's session asks the server to drop it soon after its client
// vanishes, so that the advisory lock of a leader cut off from the
// database is freed in seconds; and well after the lease, so that the
// cut-off leader has stopped publishing by then.
func TestRelaySessionIsDroppedByTheServerSoonAfterItsClientVanishes(t *testing.T) {
	db := testdb.New(t, migrateMessaging)
	r, err := NewRelay(RelayConfig{DatabaseURL: db.URL, Publisher: discard{}, Lease: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := r.connConfig()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var userTimeout, idle, interval, count string
	err = conn.QueryRow(ctx, `SELECT current_setting('tcp_user_timeout'), current_setting('tcp_keepalives_idle'),
		current_setting('tcp_keepalives_interval'), current_setting('tcp_keepalives_count')`).Scan(&userTimeout, &idle, &interval, &count)
	if err != nil {
		t.Fatal(err)
	}
	// A loopback session reports the settings as asked (TCP sockets only).
	if got, want := userTimeout, "20000"; got != want { // milliseconds
		t.Errorf("tcp_user_timeout = %s, want %s (four leases)", got, want)
	}
	if got, want := idle+"/"+interval+"/"+count, "10/1/10"; got != want {
		t.Errorf("keepalives idle/interval/count = %s, want %s: dead after 20s", got, want)
	}
}

// A transaction left open elsewhere (an idle psql session, say) holds the
// rows written after it back; the relay must look again now and then, not
// every few milliseconds while it lasts.
func TestRelayBacksOffWhileAnOpenTransactionHoldsRowsBack(t *testing.T) {
	db := testdb.New(t, migrateMessaging)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	idle, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Rollback(ctx)
	if _, err := idle.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := envelope.New("test.event", "k", map[string]int{"seq": 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(ctx, tx, Record{Topic: "events", Key: "k", Message: m}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := NewRelay(RelayConfig{DatabaseURL: db.URL, Publisher: discard{}, PollInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = r.Run(ctx) })
	defer wg.Wait()
	defer cancel()
	time.Sleep(3 * time.Second)
	// The queue is read once; then the relay checks whether the open
	// transaction has ended, at 5, 10, 20 … ms up to the 1s poll
	// interval: about a dozen checks in 3s; a fixed 5 ms recheck makes
	// hundreds.
	if got := r.scans.Load(); got != 1 {
		t.Errorf("relay read the queue %d times in 3s while one transaction held its only row back, want once", got)
	}
	if got := r.checks.Load(); got > 30 {
		t.Errorf("relay checked %d times in 3s whether the held-back row was ready", got)
	}
	if got := r.checks.Load(); got < 3 {
		t.Errorf("relay checked %d times in 3s whether the held-back row was ready: it must keep looking", got)
	}
}
