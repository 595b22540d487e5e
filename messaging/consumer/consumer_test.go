package consumer_test

import (
	"context"
	"database/sql"
	"errors"
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
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/dlt"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/retry"
	"github.com/purchase-saga/messaging/schema"
	"github.com/purchase-saga/messaging/testbroker"
	"github.com/purchase-saga/messaging/testdb"
)

const (
	in    = "in"
	inDLT = "in.dlt"
	group = "test-group"
)

// fixture is a database with an effects table, a broker with the in and
// in.dlt topics, and a consumer whose handler records each message.
type fixture struct {
	t      *testing.T
	db     *testdb.DB
	broker *testbroker.Broker
	w      *kafka.Writer
	// fail, when set, decides per message whether the handler errs.
	fail func(d consumer.Delivery) error
	// wrap, when set, is the consumer's handler in place of handle.
	wrap consumer.Handler
	// middleware is the consumer's Middleware.
	middleware []consumer.Middleware
	// lock, when set, is the consumer's Lock.
	lock func(ctx context.Context, tx pgx.Tx, ds []consumer.Delivery) error
	// commitInterval is the reader's (0: commit after every batch).
	commitInterval time.Duration
	// pool, when set, is the consumer's in place of the database's.
	pool *pgxpool.Pool
	// consumer is the one start ran.
	consumer *consumer.Consumer
	calls    sync.Map // message id -> *atomic.Int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t}
	f.db = testdb.New(t, func(ctx context.Context, db *sql.DB) error {
		if err := schema.Up(ctx, db); err != nil {
			return err
		}
		_, err := db.ExecContext(ctx, `CREATE TABLE effects (
			n bigserial PRIMARY KEY, message_id uuid NOT NULL, key text NOT NULL, seq int NOT NULL)`)
		return err
	})
	f.broker = testbroker.New(t, 3, in, inDLT)
	f.w = broker.NewWriter(f.broker.Addrs, nil)
	t.Cleanup(func() { _ = f.w.Close() })
	return f
}

func (f *fixture) handle(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
	c, _ := f.calls.LoadOrStore(d.Message.ID.String(), new(atomic.Int64))
	c.(*atomic.Int64).Add(1)
	if f.fail != nil {
		if err := f.fail(d); err != nil {
			return err
		}
	}
	var data struct{ Seq int }
	if err := d.Message.DecodeData(&data); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO effects (message_id, key, seq) VALUES ($1, $2, $3)`, d.Message.ID, d.Key, data.Seq)
	return err
}

func (f *fixture) handler() consumer.Handler {
	if f.wrap != nil {
		return f.wrap
	}
	return f.handle
}

func (f *fixture) callsOf(m envelope.Message) int64 {
	c, ok := f.calls.Load(m.ID.String())
	if !ok {
		return 0
	}
	return c.(*atomic.Int64).Load()
}

// start runs a consumer until the test ends.
func (f *fixture) start(maxAttempts int) {
	f.startBatch(maxAttempts, 0)
}

func (f *fixture) startBatch(maxAttempts, batchSize int) {
	f.t.Helper()
	pool := f.db.Pool
	if f.pool != nil {
		pool = f.pool
	}
	c, err := consumer.New(consumer.Config{
		Reader:      broker.NewReader(f.broker.Addrs, group, []string{in}, broker.ReaderOptions{SessionTimeout: time.Second, CommitInterval: f.commitInterval}, nil),
		Pool:        pool,
		Handler:     f.handler(),
		Middleware:  f.middleware,
		Lock:        f.lock,
		DeadLetters: f.w,
		Service:     "test-service",
		MaxAttempts: maxAttempts,
		BatchSize:   batchSize,
		Backoff:     retry.Backoff{Base: 10 * time.Millisecond, Max: 200 * time.Millisecond},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	f.consumer = c
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = c.Run(ctx) })
	f.t.Cleanup(func() { cancel(); wg.Wait() })
}

func (f *fixture) message(key string, seq int) envelope.Message {
	m, err := envelope.New("test.event", key, map[string]int{"seq": seq})
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

func (f *fixture) send(key string, msgs ...envelope.Message) {
	f.t.Helper()
	var out []kafka.Message
	for _, m := range msgs {
		v, err := m.Encode()
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, kafka.Message{Topic: in, Key: []byte(key), Value: v,
			Headers: []kafka.Header{{Key: envelope.HeaderMessageID, Value: []byte(m.ID.String())}, {Key: envelope.HeaderType, Value: []byte(m.Type)}}})
	}
	f.sendRaw(out...)
}

func (f *fixture) sendRaw(msgs ...kafka.Message) {
	f.t.Helper()
	if err := f.w.WriteMessages(context.Background(), msgs...); err != nil {
		f.t.Fatal(err)
	}
}

// waitApplied waits until message m has an effect.
func (f *fixture) waitApplied(m envelope.Message, timeout time.Duration) {
	f.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var n int
		if err := f.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM effects WHERE message_id = $1`, m.ID).Scan(&n); err == nil && n > 0 {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("message %s not applied within %v", m.ID, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (f *fixture) effects(m envelope.Message) int {
	var n int
	if err := f.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM effects WHERE message_id = $1`, m.ID).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// assertOrdered checks that every key's effects were applied in seq order,
// each seq once, 1..want[key].
func (f *fixture) assertOrdered(want map[string]int) {
	f.t.Helper()
	rows, err := f.db.Pool.Query(context.Background(), `SELECT key, seq FROM effects ORDER BY n`)
	if err != nil {
		f.t.Fatal(err)
	}
	got := map[string][]int{}
	for rows.Next() {
		var k string
		var s int
		if err := rows.Scan(&k, &s); err != nil {
			f.t.Fatal(err)
		}
		got[k] = append(got[k], s)
	}
	for k, n := range want {
		if len(got[k]) != n {
			f.t.Errorf("key %s: %d effects, want %d", k, len(got[k]), n)
		}
		for i, s := range got[k] {
			if s != i+1 {
				f.t.Errorf("key %s: effect %d has seq %d, want %d: %v", k, i, s, i+1, got[k])
				break
			}
		}
	}
}

func TestDuplicateDeliveryHasOneEffect(t *testing.T) {
	f := newFixture(t)
	f.start(5)
	dup := f.message("k", 1)
	f.send("k", dup, dup) // twice in one batch
	f.waitApplied(dup, 10*time.Second)
	f.send("k", dup) // and again later, in another batch
	next := f.message("k", 2)
	f.send("k", next)
	f.waitApplied(next, 10*time.Second)
	if got, want := f.effects(dup), 1; got != want {
		t.Errorf("effects of a message delivered three times = %d, want %d", got, want)
	}
}

func TestPoisonGoesToDLTWithAllHeadersAndTheNextIsProcessed(t *testing.T) {
	f := newFixture(t)
	f.fail = func(d consumer.Delivery) error {
		if d.Message.Type == "test.invalid" {
			return fmt.Errorf("no such event: %w", consumer.ErrPoison)
		}
		return nil
	}
	f.start(5)
	f.sendRaw(kafka.Message{Topic: in, Key: []byte("k"), Value: []byte("{not json")})
	f.sendRaw(kafka.Message{Topic: in, Key: []byte("k"), Value: []byte(`{"type":"x"}`)})
	invalid, err := envelope.New("test.invalid", "k", map[string]int{"seq": 0})
	if err != nil {
		t.Fatal(err)
	}
	f.send("k", invalid)
	next := f.message("k", 1)
	f.send("k", next)
	f.waitApplied(next, 10*time.Second)

	dead := f.broker.ReadAll(t, inDLT, 3, 10*time.Second)
	if len(dead) != 3 {
		t.Fatalf("%d records on %s, want 3", len(dead), inDLT)
	}
	if got := f.callsOf(invalid); got != 1 {
		t.Errorf("handler saw the poison message %d times, want 1 (no retries)", got)
	}
	for i, m := range dead {
		for _, h := range []string{dlt.HeaderReason, dlt.HeaderError, dlt.HeaderOriginalTopic, dlt.HeaderOriginalPartition,
			dlt.HeaderOriginalOffset, dlt.HeaderAttempts, dlt.HeaderFailedAt, dlt.HeaderService} {
			if dlt.Header(m, h) == "" {
				t.Errorf("dead letter %d lacks header %s", i, h)
			}
		}
		if got, want := dlt.Header(m, dlt.HeaderReason), dlt.ReasonPoison; got != want {
			t.Errorf("dead letter %d: reason %q, want %q", i, got, want)
		}
		if got, want := dlt.Header(m, dlt.HeaderOriginalTopic), in; got != want {
			t.Errorf("dead letter %d: original topic %q, want %q", i, got, want)
		}
		if got, want := dlt.Header(m, dlt.HeaderService), "test-service"; got != want {
			t.Errorf("dead letter %d: service %q, want %q", i, got, want)
		}
		if _, err := time.Parse(time.RFC3339Nano, dlt.Header(m, dlt.HeaderFailedAt)); err != nil {
			t.Errorf("dead letter %d: failed-at: %v", i, err)
		}
		if _, err := strconv.ParseInt(dlt.Header(m, dlt.HeaderOriginalOffset), 10, 64); err != nil {
			t.Errorf("dead letter %d: original offset: %v", i, err)
		}
	}
	if got, want := string(dead[0].Value), "{not json"; got != want && string(dead[1].Value) != want && string(dead[2].Value) != want {
		t.Errorf("the undecodable record's value was not kept on the dead letter")
	}
}

var errFlaky = errors.New("flaky")

func TestFailingMessageIsRetriedThenSucceedsOrEndsOnDLTAsError(t *testing.T) {
	f := newFixture(t)
	var flakyLeft atomic.Int64
	flakyLeft.Store(2)
	var flaky, broken envelope.Message
	f.fail = func(d consumer.Delivery) error {
		switch d.Message.ID {
		case flaky.ID:
			if flakyLeft.Add(-1) >= 0 {
				return errFlaky
			}
		case broken.ID:
			return errors.New("always broken")
		}
		return nil
	}
	const maxAttempts = 3
	f.start(maxAttempts)

	flaky, broken = f.message("k", 2), f.message("k", 0)
	msgs := []envelope.Message{f.message("k", 1), flaky, broken}
	for seq := 3; seq <= 10; seq++ {
		msgs = append(msgs, f.message("k", seq))
	}
	f.send("k", msgs...)
	f.waitApplied(msgs[len(msgs)-1], 15*time.Second)

	if got := f.callsOf(flaky); got != 3 {
		t.Errorf("flaky message handled %d times, want 3 (two failures, one success)", got)
	}
	if got := f.callsOf(broken); got < maxAttempts {
		t.Errorf("broken message handled %d times, want at least %d", got, maxAttempts)
	}
	f.assertOrdered(map[string]int{"k": 10})
	if got := f.effects(broken); got != 0 {
		t.Errorf("broken message has %d effects, want 0", got)
	}
	dead := f.broker.ReadAll(t, inDLT, 1, 10*time.Second)
	if len(dead) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dead))
	}
	if got, want := dlt.Header(dead[0], dlt.HeaderReason), dlt.ReasonError; got != want {
		t.Errorf("reason %q, want %q", got, want)
	}
	if got, want := dlt.Header(dead[0], dlt.HeaderAttempts), strconv.Itoa(maxAttempts); got != want {
		t.Errorf("attempts %q, want %q", got, want)
	}
	if got, want := dlt.Header(dead[0], envelope.HeaderMessageID), broken.ID.String(); got != want {
		t.Errorf("dead letter carries message %q, want the broken one %q", got, want)
	}
}

// committed returns the group's committed offsets summed over partitions.
func committed(t *testing.T, b *testbroker.Broker) int64 {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(b.Addrs...)}
	resp, err := client.OffsetFetch(context.Background(), &kafka.OffsetFetchRequest{GroupID: group,
		Topics: map[string][]int{in: {0, 1, 2}}})
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, p := range resp.Topics[in] {
		if p.CommittedOffset > 0 {
			sum += p.CommittedOffset
		}
	}
	return sum
}

func TestDatabaseOutageCommitsNothingAndLosesNothing(t *testing.T) {
	f := newFixture(t)
	f.fail = func(consumer.Delivery) error {
		time.Sleep(5 * time.Millisecond) // keep consumption going while the database goes away
		return nil
	}
	const keys, perKey = 4, 100
	want := map[string]int{}
	var last envelope.Message
	var batch []kafka.Message
	for seq := 1; seq <= perKey; seq++ {
		for k := range keys {
			key := fmt.Sprintf("k%d", k)
			want[key] = perKey
			last = f.message(key, seq)
			v, _ := last.Encode()
			batch = append(batch, kafka.Message{Topic: in, Key: []byte(key), Value: v})
		}
	}
	f.sendRaw(batch...)
	f.startBatch(3, 10)
	// Wait until consumption is under way, then make the database refuse
	// connections and kill the ones it has.
	for committed(t, f.broker) < 20 {
		time.Sleep(10 * time.Millisecond)
	}
	admin, err := pgx.Connect(context.Background(), testdb.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	name := pgx.Identifier{f.db.Name}.Sanitize()
	if _, err := admin.Exec(context.Background(), "ALTER DATABASE "+name+" ALLOW_CONNECTIONS false"); err != nil {
		t.Fatal(err)
	}
	f.db.TerminateBackends(t)
	time.Sleep(200 * time.Millisecond) // a commit in flight when the backends died may still land
	before := committed(t, f.broker)
	time.Sleep(1500 * time.Millisecond)
	during := committed(t, f.broker)
	if _, err := admin.Exec(context.Background(), "ALTER DATABASE "+name+" ALLOW_CONNECTIONS true"); err != nil {
		t.Fatal(err)
	}
	if during != before {
		t.Errorf("offsets advanced from %d to %d while the database was down", before, during)
	}
	if before >= keys*perKey {
		t.Fatalf("everything was consumed before the outage (%d); the test proves nothing", before)
	}
	f.waitApplied(last, 30*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for committed(t, f.broker) < keys*perKey && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	f.assertOrdered(want)
	if dead := f.broker.ReadAll(t, inDLT, 0, time.Second); len(dead) != 0 {
		t.Errorf("%d messages dead-lettered by a database outage, want 0", len(dead))
	}
}

// With a commit interval the offsets of applied batches are committed in
// the background, soon after, and all of them.
func TestOffsetsAreCommittedInTheBackground(t *testing.T) {
	f := newFixture(t)
	f.commitInterval = 50 * time.Millisecond
	f.start(3)
	var msgs []envelope.Message
	for seq := 1; seq <= 30; seq++ {
		msgs = append(msgs, f.message(fmt.Sprintf("k%d", seq%5), seq))
	}
	for _, m := range msgs {
		f.send(m.SagaID, m)
	}
	for _, m := range msgs {
		f.waitApplied(m, 15*time.Second)
	}
	deadline := time.Now().Add(5 * time.Second)
	for committed(t, f.broker) < int64(len(msgs)) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d offsets committed 5s after the last message was applied", committed(t, f.broker), len(msgs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
