package saga

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
)

// One order that fails its group's transaction fails alone: the group is
// written again one order at a time.
func TestGroupFailedByOneOrderIsWrittenOrderByOrder(t *testing.T) {
	var c committer
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
			errs[i] = c.place(context.Background(), write, &placement{order: postgres.NewOrder{
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
