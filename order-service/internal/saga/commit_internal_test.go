package saga

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
)

// One order that fails its group's transaction fails alone: the group is
// written again one order at a time.
func TestGroupFailedByOneOrderIsWrittenOrderByOrder(t *testing.T) {
	var c grouper[*placement]
	errBad := errors.New("refused by the database")
	var mu sync.Mutex
	written := map[string]int{}
	write := func(_ context.Context, items []*placement) error {
		for _, pl := range items {
			if pl.order.IdempotencyKey == "bad" {
				return errBad
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for _, pl := range items {
			written[pl.order.IdempotencyKey]++
		}
		return nil
	}
	keys := []string{"a", "b", "bad", "c", "d", "e", "f", "g"}
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, k := range keys {
		wg.Go(func() {
			<-start
			errs[i] = c.do(context.Background(), write, &placement{order: postgres.NewOrder{
				Order: order.Order{ID: fmt.Sprint(i)}, IdempotencyKey: k}})
		})
	}
	close(start)
	wg.Wait()
	for i, k := range keys {
		switch {
		case k == "bad" && !errors.Is(errs[i], errBad):
			t.Errorf("the bad order: err %v, want %v", errs[i], errBad)
		case k != "bad" && errs[i] != nil:
			t.Errorf("order %s failed with its bad neighbour: %v", k, errs[i])
		case k != "bad" && written[k] != 1:
			t.Errorf("order %s written %d times, want 1", k, written[k])
		}
	}
}

// Requests that come while the groups before them run wait and go
// together: here two groups hold both slots, and the eight requests that
// come meanwhile are run in one call.
func TestRequestsThatComeWhileGroupsRunGoTogether(t *testing.T) {
	var g grouper[*keyLookup]
	release := make(chan struct{})
	var mu sync.Mutex
	var calls [][]string
	run := func(_ context.Context, ls []*keyLookup) error {
		mu.Lock()
		var keys []string
		for _, l := range ls {
			keys = append(keys, l.key)
		}
		calls = append(calls, keys)
		first := len(calls) <= groupRunners
		mu.Unlock()
		if first {
			<-release
		}
		for _, l := range ls {
			l.err = order.ErrNotFound
		}
		return nil
	}
	var wg sync.WaitGroup
	lookup := func(key string) {
		wg.Go(func() {
			if err := g.do(context.Background(), run, &keyLookup{key: key}); !errors.Is(err, order.ErrNotFound) {
				t.Errorf("lookup %s: %v, want not found", key, err)
			}
		})
	}
	// waitFor waits until calls holds n runs, or the open group n requests.
	waitFor := func(what string, done func() bool) {
		t.Helper()
		for range 2000 {
			g.mu.Lock()
			mu.Lock()
			ok := done()
			mu.Unlock()
			g.mu.Unlock()
			if ok {
				return
			}
			time.Sleep(time.Millisecond)
		}
		t.Fatalf("waited in vain for %s", what)
	}
	for i := range groupRunners {
		lookup(fmt.Sprint("running-", i))
		waitFor("a group to run", func() bool { return len(calls) == i+1 })
	}
	for i := range 8 {
		lookup(fmt.Sprint("waiting-", i))
	}
	waitFor("eight requests to wait", func() bool { return g.open != nil && len(g.open.items) == 8 })
	close(release)
	wg.Wait()
	if len(calls) != groupRunners+1 || len(calls[groupRunners]) != 8 {
		t.Errorf("runs %v, want %d alone and then the 8 waiting requests together", calls, groupRunners)
	}
}
