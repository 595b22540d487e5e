package e2e

import (
	"context"
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
