package service

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/outbox"
	"github.com/purchase-saga/messaging/testbroker"
	"github.com/purchase-saga/messaging/testdb"
)

type nopPublisher struct{}

func (nopPublisher) WriteMessages(context.Context, ...kafka.Message) error { return nil }

// /readyz must not stay green while the relay cannot do its job: here its
// database is unreachable while the service's pool (and so the plain
// database check) is fine.
func TestReadyzReportsAStalledRelay(t *testing.T) {
	db := testdb.New(t, nil)
	b := testbroker.New(t, 1, "events")
	relay, err := outbox.NewRelay(outbox.RelayConfig{DatabaseURL: "postgres://postgres@127.0.0.1:1/none?connect_timeout=1",
		Publisher: nopPublisher{}, RetryInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{Pool: db.Pool, Config: Config{KafkaBrokers: b.Addrs}, relay: supervise("outbox relay", relay), stallAfter: 300 * time.Millisecond}
	if code, checks := readyz(t, s); code != http.StatusOK {
		t.Fatalf("readyz before the relay ran: %d %v, want 200", code, checks)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = relay.Run(ctx) })
	defer wg.Wait()
	defer cancel()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, checks := readyz(t, s)
		if code == http.StatusServiceUnavailable && strings.Contains(checks["relay"], "stalled") {
			if checks["database"] != "ok" {
				t.Errorf("database check %q, want ok: only the relay is cut off", checks["database"])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz still %d %v 10s after the relay lost its database", code, checks)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
