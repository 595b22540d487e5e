package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// startBurst starts n clients placing single-unit orders as fast as the
// answers come (each with its own Idempotency-Key, waiting only as long as
// a 429 asks), far more than the stack can finish.
func (tw *twins) startBurst(n int, customers, items []string) *orderClients {
	c := tw.newClients()
	for w := range n {
		c.wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-c.stop:
					return
				default:
				}
				c.place(w, fmt.Sprintf("burst-%d-%d", w, i), customers[(w*7+i)%len(customers)],
					[]line{{items[(w+i)%len(items)], 1}})
			}
		})
	}
	return c
}

// TestOverloadSellsEveryUnit offers two instances of each service several
// times the orders they can finish, for a few seconds, and SIGKILLs a
// participant once meanwhile. The shop must answer the surplus with 409
// (sold out) or 429 (try again) and still sell every unit, fail at most 1 %
// of the orders it placed by timeout, settle every order within
// SAGA_TIMEOUT + 30s of the load's end, oversell nothing, conserve money
// and place one order per Idempotency-Key.
func TestOverloadSellsEveryUnit(t *testing.T) {
	tw := newTwins(t)
	items := map[string]int64{"ticket": 150, "poster": 150}
	for id, n := range items {
		tw.item(id, 500, n)
	}
	deposits := map[string]int64{}
	var customers []string
	for i := range 40 {
		c := fmt.Sprintf("fan-%02d", i)
		deposits[c] = 100_000
		tw.account(c, deposits[c])
		customers = append(customers, c)
	}

	clients := tw.startBurst(16, customers, []string{"ticket", "poster"})
	loadEnds := time.Now().Add(15 * time.Second)
	waitFor(t, 30*time.Second, "the burst to place 50 orders", func() bool { return clients.placed() >= 50 })
	victim := tw.procs[0] // stock-service-a
	victim.kill()
	t.Logf("%s SIGKILLed after %d orders", victim.name, clients.placed())
	time.Sleep(time.Second)
	victim.start()
	time.Sleep(time.Until(loadEnds))
	close(clients.stop)
	loadEnded := time.Now()
	told, refused, retries, problems := clients.finish()
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("%d orders placed, %d refused as sold out, %d answers asked to retry (429, 5xx, no answer)", len(told), refused, retries)

	bound := twinSagaTimeout + 30*time.Second
	if !tw.waitSettled(t, time.Until(loadEnded.Add(bound))) {
		t.FailNow()
	}
	t.Logf("every order settled %v after the load", time.Since(loadEnded).Round(100*time.Millisecond))
	for id, onHand := range items {
		if it := tw.stockOf(id); it.Available != 0 || it.Reserved != onHand {
			t.Errorf("%s: %+v, want every one of %d units sold: demand exceeded stock", id, it, onHand)
		}
	}
	var timeouts int
	if err := tw.dbs["order"].Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM orders WHERE failure_reason = 'timeout'`).Scan(&timeouts); err != nil {
		t.Fatal(err)
	}
	if len(told) == 0 || timeouts*100 > len(told) {
		t.Errorf("%d of %d placed orders failed by timeout, want at most 1 %%", timeouts, len(told))
	}
	if refused == 0 {
		t.Errorf("no order was refused as sold out: the load never exceeded the stock")
	}
	ids := make([]string, 0, len(told))
	for _, id := range told {
		ids = append(ids, id)
	}
	tw.placedOnce(t, told)
	tw.ledger(t, ids, items, deposits, "timeout")
	tw.effectsOnce(t)
}
