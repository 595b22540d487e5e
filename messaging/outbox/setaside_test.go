package outbox_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/outbox"
	"github.com/purchase-saga/messaging/testbroker"
	"github.com/purchase-saga/messaging/testdb"
)

// padded is the record of seq for key on topic, its value padded by pad bytes.
func padded(t *testing.T, topic, key string, seq, pad int) outbox.Record {
	t.Helper()
	r := record(t, key, seq)
	m, err := envelope.New("test.event", key, map[string]any{"seq": seq, "pad": strings.Repeat("p", pad)})
	if err != nil {
		t.Fatal(err)
	}
	r.Topic, r.Message = topic, m
	return r
}

func commit(t *testing.T, db *testdb.DB, records ...outbox.Record) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if err := outbox.Write(ctx, tx, records...); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

func topicConfig(t *testing.T, b *testbroker.Broker, topic, name, value string, create bool) {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(b.Addrs...), Timeout: 5 * time.Second}
	ctx := context.Background()
	if create {
		resp, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
			Topic: topic, NumPartitions: 1, ReplicationFactor: 1,
			ConfigEntries: []kafka.ConfigEntry{{ConfigName: name, ConfigValue: value}}}}})
		if err == nil {
			err = resp.Errors[topic]
		}
		if err != nil {
			t.Fatalf("create topic %s: %v", topic, err)
		}
		return
	}
	resp, err := client.AlterConfigs(ctx, &kafka.AlterConfigsRequest{Resources: []kafka.AlterConfigRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: topic,
		Configs: []kafka.AlterConfigRequestConfig{{Name: name, Value: value}}}}})
	if err == nil {
		for _, e := range resp.Errors {
			if e != nil {
				err = e
			}
		}
	}
	if err != nil {
		t.Fatalf("alter topic %s: %v", topic, err)
	}
}

func waitStatus(t *testing.T, db *testdb.DB, ok func(outbox.Status) bool) outbox.Status {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := outbox.ReadStatus(context.Background(), db.Pool)
		if err != nil {
			t.Fatal(err)
		}
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox status %+v after 10s", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A row the broker can never take (over the writer's message limit, or
// over its topic's max.message.bytes) must not jam the relay: it is set
// aside with its reason, the rows behind it go out, and once the cause is
// fixed an operator's retry publishes it.
func TestRelaySetsAsideRowsTheBrokerRefusesAndPublishesTheRowsBehind(t *testing.T) {
	db := testdb.New(t, migrate)
	b := testbroker.New(t, 1, events)
	const small = "small"
	topicConfig(t, b, small, "max.message.bytes", "2000", true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	commit(t, db, padded(t, events, "k", 1, 10), padded(t, events, "k", 2, 600<<10), padded(t, events, "k", 3, 10))
	commit(t, db, padded(t, small, "s", 1, 5000), padded(t, small, "s", 2, 10))
	var setAside atomic.Int64
	r, err := outbox.NewRelay(outbox.RelayConfig{DatabaseURL: db.URL, Publisher: writer(t, b),
		OnSetAside: func(n int) { setAside.Add(int64(n)) }})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = r.Run(ctx) }()

	if got, want := seqsByKey(t, b.ReadAll(t, events, 2, 10*time.Second))["k"], []int{1, 3}; !equal(got, want) {
		t.Errorf("published on %s: seqs %v, want %v", events, got, want)
	}
	if got, want := seqsByKey(t, b.ReadAll(t, small, 1, 10*time.Second))["s"], []int{2}; !equal(got, want) {
		t.Errorf("published on %s: seqs %v, want %v", small, got, want)
	}
	st := waitStatus(t, db, func(st outbox.Status) bool { return st.Unpublished == 0 && st.Failed == 2 })
	if got := setAside.Load(); got != 2 {
		t.Errorf("OnSetAside counted %d rows, want 2 (status %+v)", got, st)
	}
	failed, err := outbox.ListFailed(ctx, db.Pool, 10)
	if err != nil || len(failed) != 2 {
		t.Fatalf("ListFailed = %+v, %v; want 2 rows", failed, err)
	}
	for _, f := range failed {
		if f.Error == "" || f.FailedAt.IsZero() {
			t.Errorf("failed row %+v lacks its reason or time", f)
		}
	}

	// The topic's limit is raised: a retry publishes the row it refused;
	// the row over the writer's own limit is set aside again.
	topicConfig(t, b, small, "max.message.bytes", "100000", false)
	n, err := outbox.RetryFailed(ctx, db.Pool, nil)
	if err != nil || n != 2 {
		t.Fatalf("RetryFailed = %d, %v; want 2", n, err)
	}
	if got, want := seqsByKey(t, b.ReadAll(t, small, 2, 10*time.Second))["s"], []int{2, 1}; !equal(got, want) {
		t.Errorf("after the retry %s holds seqs %v, want %v", small, got, want)
	}
	waitStatus(t, db, func(st outbox.Status) bool { return st.Unpublished == 0 && st.Failed == 1 })
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// stallingPublisher hangs on its first call until its context ends, as a
// broker that stops answering would, and records the deadline it was given.
type stallingPublisher struct {
	outbox.Publisher
	calls    atomic.Int64
	budget   atomic.Int64 // the first call's time to its deadline, -1 when none
	returned atomic.Int64 // how long the first call took
}

func (p *stallingPublisher) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	if p.calls.Add(1) > 1 {
		return p.Publisher.WriteMessages(ctx, msgs...)
	}
	start := time.Now()
	p.budget.Store(-1)
	if d, ok := ctx.Deadline(); ok {
		p.budget.Store(int64(time.Until(d)))
	}
	select {
	case <-ctx.Done():
	case <-time.After(30 * time.Second):
	}
	p.returned.Store(int64(time.Since(start)))
	return ctx.Err()
}

// A leader publishes only within its lease: a publish that hangs is cut
// off when the lease ends, and the rows go out again on a fresh lease.
func TestRelayPublishIsBoundedByItsLease(t *testing.T) {
	db := testdb.New(t, migrate)
	b := testbroker.New(t, 1, events)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for seq := 1; seq <= 5; seq++ {
		write(t, db.Pool, "k", seq)
	}
	const lease = time.Second
	p := &stallingPublisher{Publisher: writer(t, b)}
	r, err := outbox.NewRelay(outbox.RelayConfig{DatabaseURL: db.URL, Publisher: p, Lease: lease})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = r.Run(ctx) }()
	assertInOrder(t, seqsByKey(t, b.ReadAll(t, events, 5, 15*time.Second)), map[string]int{"k": 5})
	if got := time.Duration(p.budget.Load()); got <= 0 || got > lease {
		t.Errorf("the publish was given %v to its deadline, want at most the %v lease", got, lease)
	}
	if got := time.Duration(p.returned.Load()); got > lease+500*time.Millisecond {
		t.Errorf("a hung publish lasted %v, want it cut off within the %v lease", got, lease)
	}
}
