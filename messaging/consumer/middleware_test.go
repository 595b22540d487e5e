package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/dlt"
	"github.com/purchase-saga/messaging/envelope"
)

// A configured middleware sees every message, in the message's
// transaction, and may refuse one as poison without calling the handler.
func TestConfiguredMiddlewareWrapsTheHandlerForEveryMessage(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	seen := map[string]bool{}
	f.middleware = []consumer.Middleware{func(next consumer.Handler) consumer.Handler {
		return func(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
			mu.Lock()
			seen[d.Message.ID.String()] = true
			mu.Unlock()
			if d.Message.Type == "test.refused" {
				return consumer.Poison(errors.New("refused by middleware"))
			}
			return next(ctx, tx, d)
		}
	}}
	f.start(5)
	refused, err := envelope.New("test.refused", "k", map[string]int{"seq": 0})
	if err != nil {
		t.Fatal(err)
	}
	first, last := f.message("k", 1), f.message("k", 2)
	f.send("k", first, refused, last)
	f.waitApplied(last, 10*time.Second)
	f.waitApplied(first, time.Second)
	dead := f.broker.ReadAll(t, inDLT, 1, 10*time.Second)
	if len(dead) != 1 || dlt.Header(dead[0], envelope.HeaderMessageID) != refused.ID.String() {
		t.Fatalf("dead letters %d, want the refused message alone", len(dead))
	}
	if got, want := dlt.Header(dead[0], dlt.HeaderReason), dlt.ReasonPoison; got != want {
		t.Errorf("reason %q, want %q", got, want)
	}
	if got := f.callsOf(refused); got != 0 {
		t.Errorf("the handler saw the refused message %d times, want 0", got)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, m := range []envelope.Message{first, refused, last} {
		if !seen[m.ID.String()] {
			t.Errorf("the middleware did not see message %s", m.ID)
		}
	}
}

// A consumer whose reader is closed under it cannot fetch again: Run
// returns an error saying so instead of retrying for ever, or returning
// nil as at shutdown.
func TestRunReturnsAnErrorWhenItsReaderIsClosed(t *testing.T) {
	f := newFixture(t)
	r := broker.NewReader(f.broker.Addrs, group, []string{in}, broker.ReaderOptions{SessionTimeout: time.Second}, nil)
	c, err := consumer.New(consumer.Config{Reader: r, Pool: f.db.Pool, Handler: f.handle, DeadLetters: f.w,
		Service: "test-service", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	m := f.message("k", 1)
	f.send("k", m)
	f.waitApplied(m, 10*time.Second)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, io.EOF) {
			t.Errorf("Run returned %v, want an error wrapping io.EOF", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run still running 10s after its reader was closed")
	}
}

// eofOnce is a reader whose first fetch fails with io.EOF, as kafka-go's
// does when its group join fails on a connection the broker closed (a
// broker restarting): the reader is not closed and joins again by itself.
type eofOnce struct {
	*kafka.Reader
	failed atomic.Bool
}

func (r *eofOnce) FetchMessage(ctx context.Context) (kafka.Message, error) {
	if r.failed.CompareAndSwap(false, true) {
		return kafka.Message{}, fmt.Errorf("group join: %w", io.EOF)
	}
	return r.Reader.FetchMessage(ctx)
}

// A failed group join that kafka-go reports as io.EOF does not stop the
// consumer as a closed reader does: it fetches on and applies what comes.
func TestRunGoesOnAfterAGroupJoinFailsWithEOF(t *testing.T) {
	f := newFixture(t)
	r := &eofOnce{Reader: broker.NewReader(f.broker.Addrs, group, []string{in}, broker.ReaderOptions{SessionTimeout: time.Second}, nil)}
	c, err := consumer.New(consumer.Config{Reader: r, Pool: f.db.Pool, Handler: f.handle, DeadLetters: f.w,
		Service: "test-service", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	m := f.message("k", 1)
	f.send("k", m)
	f.waitApplied(m, 10*time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run returned %v after a failed join and a clean stop, want nil", err)
	}
}
