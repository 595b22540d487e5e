package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// ledger checks, once every order has settled, that stock and money add
// up: every unit reserved belongs to a completed order, every cent
// missing from an account paid for one; and that orders failed only for
// business reasons (or those alsoAllowed, which the caller bounds).
func (s *stack) ledger(t *testing.T, ids []string, items map[string]int64, deposits map[string]int64, alsoAllowed ...string) {
	t.Helper()
	reserved := map[string]int64{}
	spent := map[string]int64{}
	counts := map[string]int{}
	for _, id := range ids {
		o := s.settled(id, 90*time.Second)
		counts[o.Status+" "+o.FailureReason]++
		if o.Status != "COMPLETED" {
			// Faults must cost no order: only the business may refuse one.
			if o.FailureReason != "out_of_stock" && o.FailureReason != "insufficient_funds" && !slices.Contains(alsoAllowed, o.FailureReason) {
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

// unsettledQuery selects the orders that settled (stack.settled) would
// still wait for: not terminal, a step compensating, or a failed order
// with a step whose reply has not come.
const unsettledQuery = `SELECT id::text, status, failure_reason,
		coalesce(steps->'stock'->>'status', ''), coalesce(steps->'payment'->>'status', ''), created_at
	FROM orders
	WHERE status = 'PENDING' OR jsonb_path_exists(steps, '$.* ? (@.status == "COMPENSATING")')
		OR (status <> 'COMPLETED' AND jsonb_path_exists(steps, '$.* ? (@.status == "PENDING")'))
	ORDER BY id`

// waitSettled waits until every order in orderdb has settled and reports
// whether they did within timeout; when not, it names those that did not.
func (s *stack) waitSettled(t *testing.T, timeout time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		rows, err := s.dbs["order"].Pool.Query(context.Background(), unsettledQuery)
		if err != nil {
			t.Fatal(err)
		}
		var stuck []string
		for rows.Next() {
			var id, status, reason, stockStatus, paymentStatus string
			var created time.Time
			if err := rows.Scan(&id, &status, &reason, &stockStatus, &paymentStatus, &created); err != nil {
				t.Fatal(err)
			}
			stuck = append(stuck, fmt.Sprintf("%s %s %q stock %s payment %s created %s", id, status, reason,
				stockStatus, paymentStatus, created.Format(time.RFC3339Nano)))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if len(stuck) == 0 {
			return true
		}
		if time.Now().After(deadline) {
			t.Errorf("%d orders not settled within %v:\n%s", len(stuck), timeout, strings.Join(stuck, "\n"))
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// placedOnce checks that orderdb holds exactly the orders the clients were
// told about (told maps an Idempotency-Key to the order id answered): one
// per key, under the id answered, and no other.
func (s *stack) placedOnce(t *testing.T, told map[string]string) {
	t.Helper()
	rows, err := s.dbs["order"].Pool.Query(context.Background(), `SELECT id::text, coalesce(idempotency_key, '') FROM orders`)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]string{}
	for rows.Next() {
		var id, key string
		if err := rows.Scan(&id, &key); err != nil {
			t.Fatal(err)
		}
		if key == "" || told[key] != id {
			t.Errorf("orderdb holds order %s (key %q) that no client was told about", id, key)
		}
		stored[key] = id
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for key, id := range told {
		if stored[key] != id {
			t.Errorf("key %s: client was told order %s, orderdb holds %q", key, id, stored[key])
		}
	}
}

// effectsOnce checks every participant record against orderdb: stock
// holds a reservation, with the order's lines, for exactly the completed
// orders, and payment a charge, of the order's amount to its customer, for
// exactly them; every other record was released, refunded or is a
// tombstone, and none names an order orderdb does not hold.
func (s *stack) effectsOnce(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	type placed struct {
		customer string
		amount   int64
		status   string
		lines    []line
	}
	orders := map[string]placed{}
	rows, err := s.dbs["order"].Pool.Query(ctx, `SELECT id::text, customer_id, amount_cents, status, lines FROM orders`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var o placed
		if err := rows.Scan(&id, &o.customer, &o.amount, &o.status, &o.lines); err != nil {
			t.Fatal(err)
		}
		orders[id] = o
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	held := map[string]bool{}
	rows, err = s.dbs["stock"].Pool.Query(ctx, `SELECT order_id, status, lines FROM reservations`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, status string
		var lines []line
		if err := rows.Scan(&id, &status, &lines); err != nil {
			t.Fatal(err)
		}
		o, ok := orders[id]
		switch {
		case !ok:
			t.Errorf("stock holds a %s reservation for order %s that orderdb does not hold", status, id)
		case status == "RESERVED" && (o.status != "COMPLETED" || fmt.Sprint(unitsOf(lines)) != fmt.Sprint(unitsOf(o.lines))):
			t.Errorf("order %s %s: stock reserved %v, want %v reserved only for a completed order", id, o.status, lines, o.lines)
		}
		held[id] = status == "RESERVED"
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	charged := map[string]bool{}
	rows, err = s.dbs["payment"].Pool.Query(ctx, `SELECT order_id, status, account_id, amount_cents FROM charges`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, status, account string
		var amount int64
		if err := rows.Scan(&id, &status, &account, &amount); err != nil {
			t.Fatal(err)
		}
		o, ok := orders[id]
		switch {
		case !ok:
			t.Errorf("payment holds a %s charge for order %s that orderdb does not hold", status, id)
		case status == "CHARGED" && (o.status != "COMPLETED" || account != o.customer || amount != o.amount):
			t.Errorf("order %s %s: %s charged %d, want %s charged %d only for a completed order", id, o.status, account, amount, o.customer, o.amount)
		}
		charged[id] = status == "CHARGED"
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for id, o := range orders {
		if o.status == "COMPLETED" && (!held[id] || !charged[id]) {
			t.Errorf("order %s COMPLETED: reserved %v, charged %v, want both", id, held[id], charged[id])
		}
	}
}

// unitsOf sums lines per item.
func unitsOf(lines []line) map[string]int64 {
	units := map[string]int64{}
	for _, l := range lines {
		units[l.ItemID] += l.Quantity
	}
	return units
}

// settledWithin checks that every order of orderdb settled (its last
// change, a compensation's acknowledgement included) within bound of its
// creation.
func (s *stack) settledWithin(t *testing.T, bound time.Duration) {
	t.Helper()
	// An order's updated_at changes only with its status: when it ended.
	var ended time.Duration
	if err := s.dbs["order"].Pool.QueryRow(context.Background(),
		`SELECT coalesce(max(updated_at - created_at), '0') FROM orders`).Scan(&ended); err != nil {
		t.Fatal(err)
	}
	t.Logf("slowest order ended (COMPLETED or FAILED) %v after it was placed", ended.Round(time.Millisecond))
	rows, err := s.dbs["order"].Pool.Query(context.Background(), `SELECT id::text, status, failure_reason,
			greatest(updated_at, (SELECT max((s->>'updated_at')::timestamptz) FROM jsonb_each(steps) AS e(name, s))) - created_at AS took
		FROM orders ORDER BY took DESC`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for first := true; rows.Next(); first = false {
		var id, status, reason string
		var took time.Duration
		if err := rows.Scan(&id, &status, &reason, &took); err != nil {
			t.Fatal(err)
		}
		if first {
			t.Logf("slowest order settled in %v: %s %s %q", took.Round(time.Millisecond), id, status, reason)
		}
		if took <= bound {
			break
		}
		t.Errorf("order %s %s %q settled %v after it was placed, want within %v", id, status, reason, took, bound)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
