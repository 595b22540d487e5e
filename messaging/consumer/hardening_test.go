package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/dlt"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/messaging/servicetest"
)

// A failure of the batch as a whole that is neither transient nor any one
// message's fault (here the inbox is missing, as a statement timeout or a
// full disk would also fail it) must hold the partition: the consumer
// retries, commits no offset past the batch, and applies every message
// once the database is fixed.
func TestBatchWideFailureIsRetriedNotSkipped(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.db.Pool.Exec(ctx, `ALTER TABLE inbox RENAME TO inbox_away`); err != nil {
		t.Fatal(err)
	}
	f.start(3)
	const n = 30
	var msgs []envelope.Message
	for seq := 1; seq <= n; seq++ {
		msgs = append(msgs, f.message("k", seq))
	}
	before := retriesOf(t, in)
	f.send("k", msgs[:n/2]...)
	f.send("k", msgs[n/2:]...)
	// The consumer has met the failure and retried past the split into
	// single messages, and still committed nothing.
	deadline := time.Now().Add(15 * time.Second)
	for retriesOf(t, in)-before < 6 {
		if time.Now().After(deadline) {
			t.Fatalf("the consumer retried %v times in 15s, want at least 6", retriesOf(t, in)-before)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := committed(t, f.broker); got != 0 {
		t.Errorf("offsets committed while the inbox was missing: %d", got)
	}
	if err := f.consumer.Health(time.Millisecond); err == nil {
		t.Error("Health reports nothing while the consumer cannot apply a batch")
	}
	if _, err := f.db.Pool.Exec(ctx, `ALTER TABLE inbox_away RENAME TO inbox`); err != nil {
		t.Fatal(err)
	}
	f.waitApplied(msgs[n-1], 20*time.Second)
	for _, m := range msgs {
		f.waitApplied(m, 5*time.Second)
	}
	f.assertOrdered(map[string]int{"k": n})
	if err := f.consumer.Health(time.Millisecond); err != nil {
		t.Errorf("Health after recovery: %v", err)
	}
	if dead := f.broker.ReadAll(t, inDLT, 0, time.Second); len(dead) != 0 {
		t.Errorf("%d messages dead-lettered for a failure that was not theirs", len(dead))
	}
}

// A handler that panics must not kill the process: its message goes to
// the dead-letter topic as poison, once, and the next one is applied.
func TestHandlerPanicIsDeadLetteredAsPoison(t *testing.T) {
	f := newFixture(t)
	f.fail = func(d consumer.Delivery) error {
		if d.Message.Type == "test.panic" {
			panic("handler bug")
		}
		return nil
	}
	f.start(5)
	bad, err := envelope.New("test.panic", "k", map[string]int{"seq": 0})
	if err != nil {
		t.Fatal(err)
	}
	next := f.message("k", 1)
	f.send("k", bad, next)
	f.waitApplied(next, 10*time.Second)
	dead := f.broker.ReadAll(t, inDLT, 1, 10*time.Second)
	if len(dead) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dead))
	}
	if got, want := dlt.Header(dead[0], dlt.HeaderReason), dlt.ReasonPoison; got != want {
		t.Errorf("reason %q, want %q", got, want)
	}
	if got := dlt.Header(dead[0], dlt.HeaderError); !strings.Contains(got, "panicked: handler bug") {
		t.Errorf("dlt-error %q does not say the handler panicked", got)
	}
	if got := f.callsOf(bad); got != 1 {
		t.Errorf("panicking message handled %d times, want 1", got)
	}
}

// A poison record near the broker's limit makes a dead letter (the record
// plus its headers) over it: the dead letter must still be written, cut
// down and saying so, and the partition must move on.
func TestDeadLetterTooLargeForTheBrokerIsCutAndThePartitionMovesOn(t *testing.T) {
	f := newFixture(t)
	f.start(5)
	// Just under the writer's limit: it reaches the consumer, and its
	// dead letter, with the dlt-* headers added, is over the limit.
	huge := kafka.Message{Topic: in, Key: []byte("k"), Value: []byte(strings.Repeat("x", 512<<10-200)),
		Headers: []kafka.Header{{Key: "note", Value: []byte(strings.Repeat("n", 100))}}}
	f.sendRaw(huge)
	next := f.message("k", 1)
	f.send("k", next)
	f.waitApplied(next, 15*time.Second)
	dead := f.broker.ReadAll(t, inDLT, 1, 10*time.Second)
	if len(dead) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dead))
	}
	d := dead[0]
	if got, want := dlt.Header(d, dlt.HeaderReason), dlt.ReasonPoison; got != want {
		t.Errorf("reason %q, want %q", got, want)
	}
	if dlt.Header(d, dlt.HeaderTruncated) == "" {
		t.Errorf("a cut dead letter does not say so in %s", dlt.HeaderTruncated)
	}
	if got, want := dlt.Header(d, dlt.HeaderOriginalOffset), fmt.Sprint(0); got != want {
		t.Errorf("original offset %q, want %q", got, want)
	}
	if len(d.Value) == 0 || len(d.Value) >= len(huge.Value) || string(d.Value) != string(huge.Value[:len(d.Value)]) {
		t.Errorf("dead letter value: %d bytes, want a non-empty prefix of the %d-byte original", len(d.Value), len(huge.Value))
	}
}

// retriesOf reads saga_consumer_retries_total for topic.
func retriesOf(t *testing.T, topic string) float64 {
	t.Helper()
	return servicetest.Counter(t, "saga_consumer_retries_total", map[string]string{"topic": topic})
}

// What a handler registers with postgres.AfterCommit runs once its
// message's transaction committed, never for an attempt rolled back.
func TestAfterCommitRunsOnlyForCommittedMessages(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	hooks := map[string]int{}
	f.fail = func(d consumer.Delivery) error {
		if d.Message.Type == "test.invalid" {
			return consumer.Poison(errors.New("refused"))
		}
		return nil
	}
	handle := f.handle
	f.wrap = func(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
		id := d.Message.ID.String()
		postgres.AfterCommit(ctx, func() { mu.Lock(); hooks[id]++; mu.Unlock() })
		return handle(ctx, tx, d)
	}
	f.start(5)
	bad, err := envelope.New("test.invalid", "k", map[string]int{"seq": 0})
	if err != nil {
		t.Fatal(err)
	}
	first, last := f.message("k", 1), f.message("k", 2)
	f.send("k", first, bad, last) // one batch: its first attempt rolls back
	f.waitApplied(last, 10*time.Second)
	f.waitApplied(first, time.Second)
	mu.Lock()
	defer mu.Unlock()
	for _, m := range []envelope.Message{first, last} {
		if got := hooks[m.ID.String()]; got != 1 {
			t.Errorf("after-commit hook of an applied message ran %d times, want 1", got)
		}
	}
	if got := hooks[bad.ID.String()]; got != 0 {
		t.Errorf("after-commit hook of a dead-lettered message ran %d times, want 0", got)
	}
}

// A batch's locks that fail for one message's sake (here its table is
// gone) fail that message alone: it is dead-lettered as an error after
// MaxAttempts, and its neighbours are applied.
func TestLockFailingForOneMessageDeadLettersThatMessage(t *testing.T) {
	f := newFixture(t)
	f.lock = func(ctx context.Context, tx pgx.Tx, ds []consumer.Delivery) error {
		for _, d := range ds {
			if d.Message.Type == "test.unlockable" {
				_, err := tx.Exec(ctx, `SELECT FROM no_such_table FOR UPDATE`)
				return err
			}
		}
		return nil
	}
	f.start(3)
	bad, err := envelope.New("test.unlockable", "k", map[string]int{"seq": 0})
	if err != nil {
		t.Fatal(err)
	}
	first, last := f.message("k", 1), f.message("k", 2)
	f.send("k", first, bad, last)
	f.waitApplied(last, 15*time.Second)
	f.waitApplied(first, time.Second)
	dead := f.broker.ReadAll(t, inDLT, 1, 10*time.Second)
	if len(dead) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dead))
	}
	if got, want := dlt.Header(dead[0], dlt.HeaderReason), dlt.ReasonError; got != want {
		t.Errorf("reason %q, want %q", got, want)
	}
	if got, want := dlt.Header(dead[0], dlt.HeaderAttempts), "3"; got != want {
		t.Errorf("attempts %q, want %q", got, want)
	}
}
