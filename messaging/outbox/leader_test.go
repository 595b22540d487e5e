package outbox_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/outbox"
	"github.com/purchase-saga/messaging/testdb"
)

// OnLeader tells one relay of two that it leads; when the leader's
// connection dies it is told it stepped down, and one of them leads again.
func TestOnLeaderFollowsTheRelayLock(t *testing.T) {
	db := testdb.New(t, migrate)
	ctx, cancel := context.WithCancel(context.Background())
	var leads [2]atomic.Bool
	var downs [2]atomic.Int64
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for i := range leads {
		r, err := outbox.NewRelay(outbox.RelayConfig{DatabaseURL: db.URL, Publisher: nopPublisher{},
			RetryInterval: 100 * time.Millisecond, OnLeader: func(b bool) {
				leads[i].Store(b)
				if !b {
					downs[i].Add(1)
				}
			}})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { _ = r.Run(ctx) })
	}
	waitLeaders := func(what string, ok func(a, b bool) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok(leads[0].Load(), leads[1].Load()) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: relays lead %v and %v", what, leads[0].Load(), leads[1].Load())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitLeaders("one leads", func(a, b bool) bool { return a != b })
	first := 0
	if leads[1].Load() {
		first = 1
	}
	if _, err := db.Pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
		t.Fatal(err)
	}
	// Either may win the lock again; the first must have stepped down.
	waitLeaders("stepped down, and one leads", func(a, b bool) bool { return downs[first].Load() == 1 && a != b })
	cancel()
	wg.Wait()
	if leads[0].Load() || leads[1].Load() {
		t.Errorf("stopped relays still lead: %v and %v", leads[0].Load(), leads[1].Load())
	}
}

type nopPublisher struct{}

func (nopPublisher) WriteMessages(context.Context, ...kafka.Message) error { return nil }
