package stock

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Line is a quantity of one item in an order.
type Line struct {
	ItemID   string `json:"item_id"`
	Quantity int64  `json:"quantity"`
}

// Merge validates an order's lines (ids, quantities from 1 to MaxQuantity)
// and returns one line per item, sorted by item id. Summing repeated items
// makes "all or none" hold for their total; the sorted order is the order
// in which items are locked, so that two orders over the same items can
// never wait for each other in a cycle.
// Every error wraps ErrInvalid.
func Merge(lines []Line) ([]Line, error) {
	if len(lines) == 0 {
		return nil, fmt.Errorf("%w: no lines", ErrInvalid)
	}
	sum := make(map[string]int64, len(lines))
	for _, l := range lines {
		if err := ValidateID(l.ItemID); err != nil {
			return nil, err
		}
		if l.Quantity < 1 || l.Quantity > MaxQuantity {
			return nil, fmt.Errorf("%w: quantity %d of %s is not from 1 to %d", ErrInvalid, l.Quantity, l.ItemID, MaxQuantity)
		}
		if sum[l.ItemID] > math.MaxInt64-l.Quantity {
			return nil, fmt.Errorf("%w: quantity of %s overflows", ErrInvalid, l.ItemID)
		}
		sum[l.ItemID] += l.Quantity
	}
	out := make([]Line, 0, len(sum))
	for id, q := range sum {
		out = append(out, Line{ItemID: id, Quantity: q})
	}
	slices.SortFunc(out, func(a, b Line) int { return cmp.Compare(a.ItemID, b.ItemID) })
	return out, nil
}

// ItemIDs returns the item ids of lines, in their order.
func ItemIDs(lines []Line) []string {
	ids := make([]string, len(lines))
	for i, l := range lines {
		ids[i] = l.ItemID
	}
	return ids
}
