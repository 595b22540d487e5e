package order

import (
	"fmt"
	"strings"
	"time"
)

// Shortage is an item the catalog shows too few units of for a line.
type Shortage struct {
	ItemID    string
	Requested int64
	Available int64
}

// SoldOutError says the catalog read model shows less available stock
// than an order asks for: the order is not placed. The catalog may lag
// stock-service a little, so this is a fast, early no; a yes is only
// stock-service's to give.
type SoldOutError struct {
	Items []Shortage
}

func (e *SoldOutError) Error() string {
	parts := make([]string, len(e.Items))
	for i, s := range e.Items {
		parts[i] = fmt.Sprintf("%s (%d requested, %d available)", s.ItemID, s.Requested, max(s.Available, 0))
	}
	return "out of stock: " + strings.Join(parts, ", ")
}

// OverloadError says the deployment has as many sagas in flight as it can
// finish in time: the order is not placed; the client may try again after
// RetryAfter.
type OverloadError struct {
	RetryAfter time.Duration
}

func (e *OverloadError) Error() string {
	return fmt.Sprintf("too many orders in flight: try again in %s", e.RetryAfter)
}
