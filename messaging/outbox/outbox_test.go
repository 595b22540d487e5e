package outbox_test

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/outbox"
	"github.com/purchase-saga/messaging/schema"
	"github.com/purchase-saga/messaging/testbroker"
	"github.com/purchase-saga/messaging/testdb"
)

const events = "events"

func migrate(ctx context.Context, db *sql.DB) error {
	return schema.Up(ctx, db)
}

// write commits one outbox row for key carrying seq.
func write(t *testing.T, pool *pgxpool.Pool, key string, seq int) {
	t.Helper()
	if err := tryWrite(pool, key, seq); err != nil {
		t.Fatal(err)
	}
}

// tryWrite is write for goroutines other than the test's, which must not
// call t.Fatal: it returns the error.
func tryWrite(pool *pgxpool.Pool, key string, seq int) error {
	ctx := context.Background()
	m, err := envelope.New("test.event", key, map[string]int{"seq": seq})
	if err != nil {
		return err
	}
	r := outbox.Record{Topic: events, Key: key, Message: m, Headers: map[string]string{"seq": strconv.Itoa(seq)}}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return outbox.Write(ctx, tx, r) })
}

func record(t *testing.T, key string, seq int) outbox.Record {
	t.Helper()
	m, err := envelope.New("test.event", key, map[string]int{"seq": seq})
	if err != nil {
		t.Fatal(err)
	}
	return outbox.Record{Topic: events, Key: key, Message: m, Headers: map[string]string{"seq": strconv.Itoa(seq)}}
}

func startRelay(t *testing.T, ctx context.Context, dbURL string, pub outbox.Publisher) {
	t.Helper()
	r, err := outbox.NewRelay(outbox.RelayConfig{DatabaseURL: dbURL, Publisher: pub, RetryInterval: 200 * time.Millisecond, BatchSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = r.Run(ctx) })
	t.Cleanup(wg.Wait)
}

func writer(t *testing.T, b *testbroker.Broker) *kafka.Writer {
	w := broker.NewWriter(b.Addrs, nil)
	t.Cleanup(func() { _ = w.Close() })
	return w
}

// seqsByKey returns, per key, the seq header of each distinct message in
// the order first seen; a relay may publish a row twice around failover.
// distinct counts the records of msgs by message id, copies once.
func distinct(msgs []kafka.Message) int {
	seen := map[string]bool{}
	for _, m := range msgs {
		for _, h := range m.Headers {
			if h.Key == envelope.HeaderMessageID {
				seen[string(h.Value)] = true
			}
		}
	}
	return len(seen)
}

func seqsByKey(t *testing.T, msgs []kafka.Message) map[string][]int {
	t.Helper()
	seen := map[string]bool{}
	out := map[string][]int{}
	for _, m := range msgs {
		var id, seq string
		for _, h := range m.Headers {
			switch h.Key {
			case envelope.HeaderMessageID:
				id = string(h.Value)
			case "seq":
				seq = string(h.Value)
			}
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		n, err := strconv.Atoi(seq)
		if err != nil {
			t.Fatalf("record without seq header: %v", m.Headers)
		}
		out[string(m.Key)] = append(out[string(m.Key)], n)
	}
	return out
}

func assertInOrder(t *testing.T, got map[string][]int, want map[string]int) {
	t.Helper()
	for key, n := range want {
		seqs := got[key]
		if len(seqs) != n {
			t.Errorf("key %s: got %d distinct records, want %d", key, len(seqs), n)
		}
		for i, s := range seqs {
			if s != i+1 {
				t.Errorf("key %s: record %d has seq %d, want %d (order %v)", key, i, s, i+1, seqs)
				break
			}
		}
	}
	for key := range got {
		if _, ok := want[key]; !ok {
			t.Errorf("unexpected key %s published", key)
		}
	}
}

func TestRelayPublishesCommittedRowsInOrderAndNeverRolledBackOnes(t *testing.T) {
	db := testdb.New(t, migrate)
	b := testbroker.New(t, 3, events)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// A rolled-back transaction's rows must never be published.
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := outbox.Write(ctx, tx, record(t, "rolled-back", 1)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	// Hold a transaction with the earlier row of key "late" open: the
	// later row of that key, and the rows of other keys, wait for it.
	held, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Rollback(ctx)
	if err := outbox.Write(ctx, held, record(t, "late", 1)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := tryWrite(db.Pool, "late", 2); err != nil {
			t.Error(err)
		}
	})

	// Concurrent writers on other keys, each key written in sequence.
	want := map[string]int{"late": 2}
	for w := range 4 {
		key := fmt.Sprintf("k%d", w)
		want[key] = 40
		wg.Go(func() {
			for seq := 1; seq <= 40; seq++ {
				if err := tryWrite(db.Pool, key, seq); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	// The pool's four connections: the open writer and three waiting.
	waitWriters(t, db, 3)
	startRelay(t, ctx, db.URL, writer(t, b))
	waitScanned(t, db)
	if early := seqsByKey(t, b.ReadAll(t, events, 0, 2*time.Second)); len(early) != 0 {
		t.Fatalf("rows published while the first writer was open: %v", early)
	}
	if err := held.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	total := 2 + 4*40
	got := seqsByKey(t, b.ReadAll(t, events, total, 10*time.Second))
	assertInOrder(t, got, want)

	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := outbox.ReadStatus(ctx, db.Pool)
		if err != nil {
			t.Fatal(err)
		}
		if st.Unpublished == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("%d rows still unpublished", st.Unpublished)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countingPublisher counts what one relay published.
type countingPublisher struct {
	outbox.Publisher
	n atomic.Int64
}

func (c *countingPublisher) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	err := c.Publisher.WriteMessages(ctx, msgs...)
	if err == nil {
		c.n.Add(int64(len(msgs)))
	}
	return err
}

func TestOneRelayLeadsAndAnotherTakesOverWhenItsConnectionDies(t *testing.T) {
	db := testdb.New(t, migrate)
	b := testbroker.New(t, 3, events)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := writer(t, b)
	relays := []*countingPublisher{{Publisher: w}, {Publisher: w}}
	startRelay(t, ctx, db.URL, relays[0])
	startRelay(t, ctx, db.URL, relays[1])

	// Write rows for five keys, in sequence per key, until told to stop.
	const keys = 5
	var perKey atomic.Int64
	stopWriting := make(chan struct{})
	var produced sync.WaitGroup
	produced.Go(func() {
		for seq := 1; ; seq++ {
			select {
			case <-stopWriting:
				return
			default:
			}
			for k := range keys {
				if err := tryWrite(db.Pool, fmt.Sprintf("k%d", k), seq); err != nil {
					t.Error(err)
					return
				}
			}
			perKey.Store(int64(seq))
			time.Sleep(10 * time.Millisecond)
		}
	})

	// Whichever relay won the lock publishes; the other must not.
	deadline := time.Now().Add(10 * time.Second)
	for relays[0].n.Load()+relays[1].n.Load() < 20 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	leader, follower := relays[0], relays[1]
	if leader.n.Load() == 0 {
		leader, follower = follower, leader
	}
	if leader.n.Load() == 0 || follower.n.Load() != 0 {
		t.Fatalf("before failover: relays published %d and %d; want exactly one publishing", relays[0].n.Load(), relays[1].n.Load())
	}
	var killed int
	// The leader's session lock, not a writer holding the writers' lock
	// for the moment of its insert (seen killed too, failing the write).
	err := db.Pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND NOT (classid::bigint = ($1::bigint >> 32) AND objid::bigint = ($1::bigint & 4294967295))`, outbox.WriterLock).Scan(&killed)
	if err != nil || killed != 1 {
		t.Fatalf("terminated %d lock holders (err %v), want 1", killed, err)
	}
	killedAt := time.Now()
	for follower.n.Load() == 0 {
		if time.Since(killedAt) > 5*time.Second {
			close(stopWriting)
			t.Fatal("no takeover within 5s of the leader's connection dying")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("takeover after %v", time.Since(killedAt).Round(time.Millisecond))
	close(stopWriting)
	produced.Wait()

	want := map[string]int{}
	for k := range keys {
		want[fmt.Sprintf("k%d", k)] = int(perKey.Load())
	}
	// Rows the dead leader published after it last recorded its position
	// go out again: wait for every distinct record, not for a count.
	total := keys * int(perKey.Load())
	got := seqsByKey(t, b.ReadUntil(t, events, func(ms []kafka.Message) bool { return distinct(ms) >= total }, 15*time.Second))
	assertInOrder(t, got, want)
}

func TestPurgeRemovesOnlyOldPublishedRows(t *testing.T) {
	db := testdb.New(t, migrate)
	ctx := context.Background()
	for seq := 1; seq <= 4; seq++ {
		write(t, db.Pool, "k", seq)
	}
	// Rows 1 to 3 are published (or set aside); 4 and 5 are not. Row 1:
	// old; 2: recent; 3: old, set aside; 4: old; 5: recent.
	write(t, db.Pool, "k", 5)
	_, err := db.Pool.Exec(ctx, `UPDATE outbox SET
		created_at = CASE WHEN headers->>'seq' IN ('1', '3', '4') THEN now() - interval '8 days' ELSE created_at END,
		failed_at = CASE WHEN headers->>'seq' = '3' THEN now() END`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE outbox_relay SET published_to = (SELECT id FROM outbox WHERE headers->>'seq' = '3')`); err != nil {
		t.Fatal(err)
	}
	n, err := outbox.Purge(ctx, db.Pool, 7*24*time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("Purge = %d, %v; want 1 row", n, err)
	}
	var left string
	if err := db.Pool.QueryRow(ctx, `SELECT string_agg(headers->>'seq', ',' ORDER BY id) FROM outbox`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != "2,3,4,5" {
		t.Errorf("rows left %s, want 2,3,4,5", left)
	}
	st, err := outbox.ReadStatus(ctx, db.Pool)
	if err != nil || st.Unpublished != 2 || st.OldestAge < 7*24*time.Hour || st.Failed != 1 {
		t.Errorf("status %+v (%v), want 2 unpublished, the oldest 8 days old, and 1 set aside", st, err)
	}
}

// ownConn opens a connection to db of its own, closed when the test ends:
// the test's writers may hold every one of the pool's.
func ownConn(t *testing.T, db *testdb.DB) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), db.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// waitScanned waits until the relay has read the outbox after this call:
// its session (application_name outbox-relay) started a read since then.
// A check that the relay held something back can then trust that the
// relay did look.
func waitScanned(t *testing.T, db *testdb.DB) {
	t.Helper()
	ctx := context.Background()
	conn := ownConn(t, db)
	var since time.Time
	if err := conn.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&since); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var scanned bool
		err := conn.QueryRow(ctx, `SELECT coalesce(bool_or(query_start > $1), false) FROM pg_stat_activity
			WHERE application_name = 'outbox-relay' AND datname = current_database() AND query LIKE '%FROM outbox%WHERE id > $1%'`,
			since).Scan(&scanned)
		if err != nil {
			t.Fatal(err)
		}
		if scanned {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the relay did not read the outbox within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitWriters waits until n sessions of the test's database wait for an
// advisory lock: writers queued behind an open one.
func waitWriters(t *testing.T, db *testdb.DB, n int) {
	t.Helper()
	ctx := context.Background()
	conn := ownConn(t, db)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_locks
			WHERE locktype = 'advisory' AND NOT granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writers wait for the outbox lock after 10s, want %d", waiting, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// An older transaction (one with a lower transaction id) that writes
// after a younger one has written waits for the younger one's commit, so
// its row takes the higher id: ids follow commits, and the relay, which
// only remembers how far it has published, never skips the row that
// commits last. (Ordered by transaction id instead, the older row would go
// first, though it committed second.)
func TestAWriterWaitsForTheOneBeforeSoIdsFollowCommits(t *testing.T) {
	db := testdb.New(t, migrate)
	b := testbroker.New(t, 1, events)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	older, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer older.Rollback(ctx)
	if _, err := older.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil { // the older transaction id
		t.Fatal(err)
	}
	younger, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer younger.Rollback(ctx)
	if err := outbox.Write(ctx, younger, record(t, "k", 1)); err != nil {
		t.Fatal(err)
	}
	startRelay(t, ctx, db.URL, writer(t, b))
	wrote, second := make(chan error, 1), record(t, "k", 2)
	go func() { wrote <- outbox.Write(ctx, older, second) }()
	waitWriters(t, db, 1)
	waitScanned(t, db)
	if err := younger.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	if err := older.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	assertInOrder(t, seqsByKey(t, b.ReadAll(t, events, 2, 10*time.Second)), map[string]int{"k": 2})
}
