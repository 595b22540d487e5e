package saga

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
)

// Gate is the sold-out gate's memory: the catalog's available units per
// item, read again every interval, so that the losers of a flash sale are
// answered without a database round trip. It only ever says no early: an
// order it lets through is checked against the catalog in the database
// when it is priced, and stock-service has the last word.
type Gate struct {
	// Catalog reads the catalog entries changed since a time.
	Catalog postgres.Querier
	// Interval is how often the catalog is read again: the gate is at
	// most about this much behind it. Default 50ms.
	Interval time.Duration
	Log      *slog.Logger

	mu        sync.RWMutex
	available map[string]int64
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
		if n, ok := g.available[l.ItemID]; ok && n < l.Quantity {
			short = append(short, order.Shortage{ItemID: l.ItemID, Requested: l.Quantity, Available: n})
		}
	}
	return short
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
	changed, latest, err := postgres.CatalogSince(ctx, g.Catalog, since)
	if err != nil {
		return since, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.available == nil {
		g.available = map[string]int64{}
	}
	for id, n := range changed {
		g.available[id] = n
	}
	return latest, nil
}
