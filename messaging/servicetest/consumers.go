package servicetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/retry"
	"github.com/purchase-saga/messaging/testbroker"
)

// Consumers runs n consumers of topics in one consumer group, as n
// instances of a service would, until the test ends. cfg gives the
// handler, the lock, the service name and the workers; the reader, dead
// letters and a short backoff are filled in.
func Consumers(t testing.TB, b *testbroker.Broker, n int, cfg consumer.Config, topics ...string) {
	t.Helper()
	w := broker.NewWriter(b.Addrs, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range n {
		c := cfg
		c.Reader = broker.NewReader(b.Addrs, cfg.Service, topics, broker.ReaderOptions{SessionTimeout: time.Second}, nil)
		c.DeadLetters = w
		c.Backoff = retry.Backoff{Base: 10 * time.Millisecond, Max: 200 * time.Millisecond}
		cons, err := consumer.New(c)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { _ = cons.Run(ctx) })
	}
	t.Cleanup(func() { cancel(); wg.Wait(); _ = w.Close() })
}

// Conflicts returns saga_consumer_conflicts_total for SQLSTATE code
// (40P01 for deadlocks), summed over topics: compare it before and after.
func Conflicts(t testing.TB, code string) float64 {
	t.Helper()
	return Counter(t, "saga_consumer_conflicts_total", map[string]string{"code": code})
}
