package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ledger checks, once every order has settled, that stock and money add
// up: every unit reserved belongs to a completed order, every cent
// missing from an account paid for one.
func (s *stack) ledger(t *testing.T, ids []string, items map[string]int64, deposits map[string]int64) {
	t.Helper()
	reserved := map[string]int64{}
	spent := map[string]int64{}
	counts := map[string]int{}
	for _, id := range ids {
		o := s.settled(id, 90*time.Second)
		counts[o.Status+" "+o.FailureReason]++
		if o.Status != "COMPLETED" {
			// Faults must cost no order: only the business may refuse one.
			if o.FailureReason != "out_of_stock" && o.FailureReason != "insufficient_funds" {
				t.Errorf("order %s failed with %q", id, o.FailureReason)
			}
			continue
		}
		var lines []line
		if err := s.dbs["order"].Pool.QueryRow(context.Background(), `SELECT lines FROM orders WHERE id = $1`, id).Scan(&lines); err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			reserved[l.ItemID] += l.Quantity
		}
		spent[o.CustomerID] += o.AmountCents
	}
	t.Logf("orders: %v", counts)
	var stored int
	if err := s.dbs["order"].Pool.QueryRow(context.Background(), `SELECT count(*) FROM orders`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != len(ids) {
		t.Errorf("orderdb holds %d orders for %d placed: a placement was lost or doubled", stored, len(ids))
	}
	if counts["COMPLETED "] == 0 {
		t.Errorf("no order completed: the test exercised nothing")
	}
	for id, onHand := range items {
		it := s.stockOf(id)
		if it.OnHand != onHand || it.Reserved != reserved[id] || it.Available != onHand-reserved[id] || it.Available < 0 {
			t.Errorf("item %s: %+v, want on_hand %d and %d reserved by completed orders", id, it, onHand, reserved[id])
		}
	}
	for customer, deposit := range deposits {
		if got, want := s.balance(customer), deposit-spent[customer]; got != want {
			t.Errorf("account %s: balance %d, want %d (deposit %d, completed orders %d)", customer, got, want, deposit, spent[customer])
		}
	}
}

// load places orders from four concurrent clients for about a second and
// a half, calling fault once the load is under way, and returns the ids.
func (s *stack) load(t *testing.T, fault func()) ([]string, map[string]int64, map[string]int64) {
	t.Helper()
	items := map[string]int64{"red": 40, "green": 40, "blue": 40}
	for id, n := range items {
		s.item(id, 300, n)
	}
	deposits := map[string]int64{}
	for i := range 20 {
		c := fmt.Sprintf("cust-%02d", i)
		deposits[c] = 3000
		s.account(c, 3000)
	}
	names := []string{"red", "green", "blue"}
	const orders = 160
	ids := make([]string, orders)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < orders; i += 4 {
				lines := []line{{names[i%3], int64(1 + i%3)}}
				if i%5 == 0 {
					lines = append(lines, line{names[(i+1)%3], 1})
				}
				ids[i] = s.placeRetrying(fmt.Sprintf("load-%d", i), fmt.Sprintf("cust-%02d", rand.IntN(20)), lines...)
				time.Sleep(25 * time.Millisecond)
			}
		})
	}
	time.Sleep(500 * time.Millisecond)
	fault()
	wg.Wait()
	return ids, items, deposits
}

// placeRetrying places an order, retrying while order-service is down.
// The Idempotency-Key makes a retry of a request whose answer was lost
// return the order it created instead of placing a second one.
func (s *stack) placeRetrying(key, customer string, lines ...line) string {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var o orderView
		code, err := s.request("POST", s.url("order", "/orders"), map[string]any{"customer_id": customer, "lines": lines}, &o,
			"Idempotency-Key", key)
		if err == nil && (code == 201 || code == 200) {
			return o.ID
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("could not place an order for a minute: %d %v", code, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// restart kills a process with SIGKILL and starts it again after a pause.
func (s *stack) restart(t *testing.T, p *proc, ready bool) {
	t.Helper()
	p.kill()
	t.Logf("%s killed", p.name)
	time.Sleep(time.Second)
	p.start()
	if ready {
		p.waitReady(60 * time.Second)
	}
}

// TestFaultsMidLoad kills one part of the system in the middle of a load
// and checks, once every order has settled, that nothing was lost, doubled
// or oversold and that money adds up.
func TestFaultsMidLoad(t *testing.T) {
	faults := []struct {
		name   string
		inject func(t *testing.T, s *stack)
	}{
		{"stock-service SIGKILL", func(t *testing.T, s *stack) { s.restart(t, s.svcs["stock"], true) }},
		{"payment-service SIGKILL", func(t *testing.T, s *stack) { s.restart(t, s.svcs["payment"], true) }},
		{"order-service SIGKILL", func(t *testing.T, s *stack) { s.restart(t, s.svcs["order"], true) }},
		{"broker SIGKILL", func(t *testing.T, s *stack) { s.restart(t, s.broker, false) }},
		{"databases drop every connection", func(t *testing.T, s *stack) {
			for range 3 {
				for _, db := range s.dbs {
					db.TerminateBackends(t)
				}
				time.Sleep(300 * time.Millisecond)
			}
		}},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			s := newStack(t, options{})
			ids, items, deposits := s.load(t, func() { f.inject(t, s) })
			s.ledger(t, ids, items, deposits)
		})
	}
}

func TestServicesDrainAndExitZeroOnSIGTERM(t *testing.T) {
	s := newStack(t, options{})
	s.item("cup", 100, 100)
	s.account("frank", 100_000)
	var ids []string
	for range 20 {
		ids = append(ids, s.place("frank", line{"cup", 1}).ID)
	}
	for _, name := range []string{"order", "stock", "payment"} {
		began := time.Now()
		if err := s.svcs[name].signal(syscall.SIGTERM, 15*time.Second); err != nil {
			t.Errorf("%s-service after SIGTERM: %v, want exit status 0 within the shutdown bound", name, err)
		}
		t.Logf("%s-service stopped in %v", name, time.Since(began).Round(time.Millisecond))
	}
	// Nothing was lost by stopping: back up, every order settles.
	for _, name := range []string{"stock", "payment", "order"} {
		s.svcs[name].start()
	}
	for _, name := range []string{"stock", "payment", "order"} {
		s.svcs[name].waitReady(60 * time.Second)
	}
	s.ledger(t, ids, map[string]int64{"cup": 100}, map[string]int64{"frank": 100_000})
}
