package saga

import (
	"context"
	"sync"
	"time"

	mpostgres "github.com/purchase-saga/messaging/postgres"
)

// Group work. Requests that come while others are in the database wait
// and go together, in one statement or transaction: at a few requests a
// second each goes alone and at once; under load a group carries as many
// as arrived during the previous ones. A group that fails for a reason
// other than a passing one is run again one request at a time, so that
// one bad request fails alone. New orders are group-committed this way,
// and the idempotency keys of new requests are looked up together.

// maxGroup bounds the requests of one group.
const maxGroup = 128

// groupRunners is how many groups of one kind may run at once.
const groupRunners = 2

// groupItem is one request of a group.
type groupItem interface {
	// fail records the error that failed the request's group.
	fail(err error)
	// outcome returns what became of the request once its group ran.
	outcome() error
}

// grouper gathers concurrent requests into groups.
type grouper[I groupItem] struct {
	mu   sync.Mutex
	open *gathering[I]
	turn chan struct{} // a slot per group running
}

type gathering[I groupItem] struct {
	items []I
	done  chan struct{}
}

// do runs it, with whatever requests come at the same time, through run,
// which records each request's outcome, and returns it's outcome.
func (g *grouper[I]) do(ctx context.Context, run func(context.Context, []I) error, it I) error {
	g.mu.Lock()
	if g.turn == nil {
		g.turn = make(chan struct{}, groupRunners)
	}
	p, leader := g.open, false
	if p == nil {
		p, leader = &gathering[I]{done: make(chan struct{})}, true
		g.open = p
	}
	p.items = append(p.items, it)
	if len(p.items) >= maxGroup {
		g.open = nil // full: later requests start a new group
	}
	g.mu.Unlock()
	if leader {
		g.lead(ctx, run, p)
	}
	select {
	case <-p.done:
		return it.outcome()
	case <-ctx.Done():
		// The group goes on: an order may still be written, as with any
		// request whose answer is lost; the Idempotency-Key finds it.
		return ctx.Err()
	}
}

// lead waits for a free slot (gathering meanwhile), closes the group and
// runs it.
func (g *grouper[I]) lead(ctx context.Context, run func(context.Context, []I) error, p *gathering[I]) {
	defer close(p.done)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	select {
	case g.turn <- struct{}{}:
	case <-rctx.Done():
	}
	g.mu.Lock()
	if g.open == p {
		g.open = nil
	}
	items := p.items
	g.mu.Unlock()
	defer func() { <-g.turn }()
	err := run(rctx, items)
	if err == nil || len(items) == 1 || mpostgres.IsTransient(err) {
		if err != nil {
			for _, it := range items {
				it.fail(err)
			}
		}
		return
	}
	// Something in the group failed it: run each request alone.
	for _, it := range items {
		if err := run(rctx, []I{it}); err != nil {
			it.fail(err)
		}
	}
}
