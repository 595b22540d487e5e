package saga

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/purchase-saga/contract"
	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
)

// Gate is the catalog held in memory, read again every interval: the
// sold-out gate answers the losers of a flash sale from it without a
// database round trip, and orders are priced from it. It only ever says
// no early: stock-service has the last word on every order it lets
// through.
type Gate struct {
	// Catalog is the store whose catalog entries, and units in flight,
	// the gate reads.
	Catalog *postgres.Store
	// Interval is how often the catalog is read again: the gate is at
	// most about this much behind it. Default 50ms.
	Interval time.Duration
	Log      *slog.Logger

	mu    sync.RWMutex
	items map[string]postgres.Item
	// inFlight holds, per item, the units of pending orders whose stock
	// step has not been answered: units the catalog may still show as
	// available though they are spoken for.
	inFlight map[string]int64
}

// Uncertain returns the lines the catalog could serve only if orders in
// flight for the same items fail: the answer is "try again soon", not
// "sold out", and not a saga likely to end out of stock.
func (g *Gate) Uncertain(lines []LineRequest) bool {
	if g == nil {
		return false
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	for _, l := range lines {
		if it, ok := g.items[l.ItemID]; ok && it.Available-g.inFlight[l.ItemID] < l.Quantity {
			return true
		}
	}
	return false
}

// Short returns the lines the gate knows the catalog cannot serve; an
// item it does not know yet is left to the database.
func (g *Gate) Short(lines []LineRequest) []order.Shortage {
	if g == nil {
		return nil
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	var short []order.Shortage
	for _, l := range lines {
		if it, ok := g.items[l.ItemID]; ok && it.Available < l.Quantity {
			short = append(short, order.Shortage{ItemID: l.ItemID, Requested: l.Quantity, Available: it.Available})
		}
	}
	return short
}

// Items returns the entries of ids, and ok only when it knows every one:
// an item it has not read yet is for the database to tell.
func (g *Gate) Items(ids []string) (items map[string]postgres.Item, ok bool) {
	if g == nil {
		return nil, false
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	items = make(map[string]postgres.Item, len(ids))
	for _, id := range ids {
		it, known := g.items[id]
		if !known {
			return nil, false
		}
		items[id] = it
	}
	return items, true
}

// Run reads the catalog every interval until ctx ends.
func (g *Gate) Run(ctx context.Context) error {
	interval := g.Interval
	if interval <= 0 {
		interval = 50 * time.Millisecond
	}
	var since time.Time
	for {
		// Entries are stamped with their writer's transaction time, which
		// may precede the commit: read back a second to catch late ones.
		next, err := g.refresh(ctx, since.Add(-time.Second))
		if err == nil {
			since = next
		} else if ctx.Err() == nil && g.Log != nil {
			g.Log.Warn("sold-out gate: reading the catalog", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
	}
}

func (g *Gate) refresh(ctx context.Context, since time.Time) (time.Time, error) {
	changed, latest, err := g.Catalog.Catalog().Since(ctx, since)
	if err != nil {
		return since, err
	}
	// The stock step is the one whose answer settles the units.
	inFlight, err := g.Catalog.Orders().UnitsInFlight(ctx, contract.Stock.Name)
	if err != nil {
		return since, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inFlight = inFlight
	if g.items == nil {
		g.items = map[string]postgres.Item{}
	}
	for id, it := range changed {
		g.items[id] = it
	}
	return latest, nil
}
