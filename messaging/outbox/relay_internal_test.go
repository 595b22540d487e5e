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
	"github.com/purchase-saga/messaging/schema"
	"github.com/purchase-saga/messaging/testdb"
)

func migrateMessaging(ctx context.Context, db *sql.DB) error {
	return schema.Up(ctx, db)
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

// recorder keeps the keys of what it was given, in order.
type recorder struct {
	mu   sync.Mutex
	keys []string
}

func (r *recorder) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range msgs {
		r.keys = append(r.keys, string(m.Key))
	}
	return nil
}

func (r *recorder) published() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.keys...)
}

// A writer left open elsewhere (an idle psql session, say) holds the
// writers after it back, not the relay: the relay has nothing to look at
// until it commits, and must not poll in a loop meanwhile.
func TestRelayWaitsQuietlyWhileAnOpenWriterHoldsTheNextBack(t *testing.T) {
	db := testdb.New(t, migrateMessaging)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	write := func(tx pgx.Tx, key string) error {
		m, err := envelope.New("test.event", key, map[string]int{"seq": 1})
		if err != nil {
			return err
		}
		return Write(ctx, tx, Record{Topic: "events", Key: key, Message: m})
	}
	open, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer open.Rollback(ctx)
	if err := write(open, "first"); err != nil {
		t.Fatal(err)
	}
	next := make(chan error, 1)
	go func() { next <- pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error { return write(tx, "next") }) }()
	p := &recorder{}
	r, err := NewRelay(RelayConfig{DatabaseURL: db.URL, Publisher: p, PollInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = r.Run(ctx) })
	defer wg.Wait()
	defer cancel()
	time.Sleep(2 * time.Second)
	select {
	case err := <-next:
		t.Fatalf("a writer went ahead while an earlier one was open (err %v)", err)
	default:
	}
	// One read as it takes the lead, then one per poll interval: a few.
	if got := r.scans.Load(); got < 1 || got > 4 {
		t.Errorf("relay read the outbox %d times in 2s while nothing was committed, want 1 to 4", got)
	}
	if got := p.published(); len(got) != 0 {
		t.Fatalf("published %v before anything committed", got)
	}
	if err := open.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-next; err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(p.published()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := p.published(); len(got) != 2 || got[0] != "first" || got[1] != "next" {
		t.Errorf("published %v, want [first next]: commit order", got)
	}
}

// A pass stores no position of its own: the leader stores it once its
// record interval is up, and as it steps down, so that a clean stop leaves
// nothing to publish again.
func TestRelayRecordsItsPositionEveryIntervalAndWhenItStops(t *testing.T) {
	db := testdb.New(t, migrateMessaging)
	ctx := context.Background()
	stored := func() (pos, last int64) {
		t.Helper()
		if err := db.Pool.QueryRow(ctx, `SELECT published_to, (SELECT max(id) FROM outbox) FROM outbox_relay`).Scan(&pos, &last); err != nil {
			t.Fatal(err)
		}
		return pos, last
	}
	write := func(n int) {
		t.Helper()
		for range n {
			m, err := envelope.New("test.event", "k", map[string]int{"seq": 1})
			if err != nil {
				t.Fatal(err)
			}
			if err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
				return Write(ctx, tx, Record{Topic: "events", Key: "k", Message: m})
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	run := func(interval time.Duration) (published *recorder, stop func()) {
		p := &recorder{}
		r, err := NewRelay(RelayConfig{DatabaseURL: db.URL, Publisher: p, RecordInterval: interval})
		if err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() { _ = r.Run(rctx) })
		return p, func() { cancel(); wg.Wait() }
	}
	waitPublished := func(p *recorder, n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for len(p.published()) < n {
			if time.Now().After(deadline) {
				t.Fatalf("published %d rows in 5s, want %d", len(p.published()), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	write(5)
	p, stop := run(time.Hour)
	waitPublished(p, 5)
	time.Sleep(200 * time.Millisecond)
	if pos, last := stored(); pos == last {
		t.Errorf("position %d stored at once with a record interval of an hour", pos)
	}
	stop()
	if pos, last := stored(); pos != last {
		t.Errorf("after a clean stop the stored position is %d, want %d", pos, last)
	}

	p, stop = run(200 * time.Millisecond)
	defer stop()
	write(5)
	waitPublished(p, 5)
	time.Sleep(400 * time.Millisecond)
	if pos, last := stored(); pos != last {
		t.Errorf("position %d stored 400 ms after the last pass, want %d (interval 200 ms)", pos, last)
	}
	if got := len(p.published()); got != 5 {
		t.Errorf("the second relay published %d rows, want the 5 new ones only", got)
	}
}
