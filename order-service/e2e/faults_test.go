package e2e

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// load places orders from four concurrent clients, about 160 over a
// second and a half, calls fault once a quarter of them are placed, and
// returns the ids. The clients report errors to the test's goroutine,
// which alone fails the test.
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
	const orders, clients = 160, 4
	ids := make([]string, orders)
	var placed atomic.Int64
	errs := make(chan error, clients)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }() // also when the test fails below
	for w := range clients {
		wg.Go(func() {
			for i := w; i < orders; i += clients {
				lines := []line{{names[i%3], int64(1 + i%3)}}
				if i%5 == 0 {
					lines = append(lines, line{names[(i+1)%3], 1})
				}
				id, err := s.placeRetrying(stop, fmt.Sprintf("load-%d", i), fmt.Sprintf("cust-%02d", rand.IntN(20)), lines...)
				if err != nil {
					errs <- err
					return
				}
				ids[i] = id
				placed.Add(1)
				select {
				case <-stop:
					return
				case <-time.After(25 * time.Millisecond):
				}
			}
		})
	}
	waitFor(t, 60*time.Second, "the load to get under way", func() bool { return placed.Load() >= orders/4 || len(errs) > 0 })
	fault()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Orders the sold-out gate refused were never placed.
	return slices.DeleteFunc(ids, func(id string) bool { return id == "" }), items, deposits
}

// placeRetrying places an order, retrying while order-service is down,
// and returns its id, or "" when the sold-out gate refused it;
// for a minute at most or until stop closes. The Idempotency-Key makes a
// retry of a request whose answer was lost return the order it created
// instead of placing a second one. It runs on the load's goroutines, so it
// reports failure instead of failing the test.
func (s *stack) placeRetrying(stop <-chan struct{}, key, customer string, lines ...line) (string, error) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		var o orderView
		code, err := s.request("POST", s.url("order", "/orders"), map[string]any{"customer_id": customer, "lines": lines}, &o,
			"Idempotency-Key", key)
		if err == nil && (code == 201 || code == 200) {
			return o.ID, nil
		}
		if err == nil && code == 409 {
			return "", nil // sold out at the gate: nothing placed
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("could not place order %s for a minute: %d %v", key, code, err)
		}
		select {
		case <-stop:
			return "", fmt.Errorf("order %s not placed: the load was stopped", key)
		case <-time.After(100 * time.Millisecond):
		}
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
