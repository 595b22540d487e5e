package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/envelope"
)

func TestPurchaseCompletes(t *testing.T) {
	s := newStack(t, options{})
	s.item("book-1", 1500, 5)
	s.account("alice", 10_000)

	o := s.place("alice", line{"book-1", 2})
	got := s.settled(o.ID, 30*time.Second)
	if got.Status != "COMPLETED" || got.Steps.Stock.Status != "SUCCEEDED" || got.Steps.Payment.Status != "SUCCEEDED" {
		t.Fatalf("order %+v, want COMPLETED with both steps SUCCEEDED", got)
	}
	if got, want := s.balance("alice"), int64(10_000-3000); got != want {
		t.Errorf("balance %d, want %d", got, want)
	}
	if it := s.stockOf("book-1"); it.Available != 3 || it.Reserved != 2 {
		t.Errorf("stock %+v, want 2 reserved and 3 available", it)
	}
}

func TestOutOfStockRefundsPayment(t *testing.T) {
	s := newStack(t, options{})
	s.item("lamp", 2000, 2)
	s.account("bob", 10_000)

	// More than the catalog shows is refused at once, with nothing placed.
	var refusal struct{ Type, Detail string }
	if code := s.call("POST", s.url("order", "/orders"), map[string]any{"customer_id": "bob", "lines": []line{{"lamp", 3}}},
		false, &refusal); code != 409 || !strings.HasSuffix(refusal.Type, "/out-of-stock") || !strings.Contains(refusal.Detail, "lamp") {
		t.Errorf("order for 3 of 2 lamps: %d %+v, want 409 /out-of-stock naming lamp", code, refusal)
	}
	// When the catalog says yes, stock-service still decides: here a lamp
	// went under the catalog's feet.
	s.shrinkStock("lamp", 1)
	o := s.place("bob", line{"lamp", 2})
	got := s.settled(o.ID, 30*time.Second)
	if got.Status != "FAILED" || got.FailureReason != "out_of_stock" || got.Steps.Stock.Status != "FAILED" {
		t.Fatalf("order %+v, want FAILED out_of_stock", got)
	}
	// Payment ran in parallel: it either failed or was charged and refunded.
	if got.Steps.Payment.Status != "COMPENSATED" {
		t.Errorf("payment step %s, want COMPENSATED (charged, then refunded)", got.Steps.Payment.Status)
	}
	if got := s.balance("bob"); got != 10_000 {
		t.Errorf("balance %d after a refund, want 10000", got)
	}
	if it := s.stockOf("lamp"); it.Reserved != 0 || it.Available != 1 {
		t.Errorf("stock %+v, want nothing reserved", it)
	}
}

func TestInsufficientFundsReleasesStock(t *testing.T) {
	s := newStack(t, options{})
	s.item("chair", 5000, 3)
	s.account("carol", 1000)

	o := s.place("carol", line{"chair", 1})
	got := s.settled(o.ID, 30*time.Second)
	if got.Status != "FAILED" || got.FailureReason != "insufficient_funds" || got.Steps.Payment.Status != "FAILED" {
		t.Fatalf("order %+v, want FAILED insufficient_funds", got)
	}
	if got.Steps.Stock.Status != "COMPENSATED" {
		t.Errorf("stock step %s, want COMPENSATED (reserved, then released)", got.Steps.Stock.Status)
	}
	if it := s.stockOf("chair"); it.Reserved != 0 || it.Available != 3 {
		t.Errorf("stock %+v, want everything released", it)
	}
	if got := s.balance("carol"); got != 1000 {
		t.Errorf("balance %d, want 1000 untouched", got)
	}
}

func TestFiftyBuyersRaceForTenUnits(t *testing.T) {
	s := newStack(t, options{})
	const units, buyers, price = 10, 50, 700
	s.item("ticket", price, units)
	for i := range buyers {
		s.account(fmt.Sprintf("buyer-%02d", i), 1000)
	}
	ids := make([]string, buyers)
	errs := make([]error, buyers) // the buyers' goroutines report; only the test's fails
	var wg sync.WaitGroup
	for i := range buyers {
		wg.Go(func() { ids[i], errs[i] = s.tryPlace(fmt.Sprintf("buyer-%02d", i), line{"ticket", 1}) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}

	completed, gate := 0, 0
	for _, id := range ids {
		if id == "" {
			gate++ // sold out at the gate: nothing placed
			continue
		}
		o := s.settled(id, 60*time.Second)
		if o.Status == "COMPLETED" {
			completed++
		} else if o.FailureReason != "out_of_stock" {
			t.Errorf("order %s failed with %q, want out_of_stock", id, o.FailureReason)
		}
	}
	t.Logf("%d buyers turned away at the gate", gate)
	if completed != units {
		t.Errorf("%d orders completed, want exactly %d", completed, units)
	}
	if it := s.stockOf("ticket"); it.Available != 0 || it.Reserved != units {
		t.Errorf("stock %+v, want 0 available and %d reserved", it, units)
	}
	// Read once every order has settled: a charge of an order that failed
	// is refunded by then, not before.
	var money int64
	for i := range buyers {
		money += s.balance(fmt.Sprintf("buyer-%02d", i))
	}
	if got, want := money, int64(buyers*1000-units*price); got != want {
		t.Errorf("money left %d, want %d (deposits minus %d sales)", got, want, units)
	}
}

func TestMultiLineOrderThatCannotBeFullyServedReservesNothing(t *testing.T) {
	s := newStack(t, options{})
	s.item("pen", 100, 10)
	s.item("ink", 300, 2)
	s.shrinkStock("ink", 1) // the catalog still shows 2
	s.account("dave", 100_000)

	o := s.place("dave", line{"pen", 3}, line{"ink", 2})
	got := s.settled(o.ID, 30*time.Second)
	if got.Status != "FAILED" || got.FailureReason != "out_of_stock" {
		t.Fatalf("order %+v, want FAILED out_of_stock", got)
	}
	for _, id := range []string{"pen", "ink"} {
		if it := s.stockOf(id); it.Reserved != 0 {
			t.Errorf("%s: %d reserved, want none", id, it.Reserved)
		}
	}
	if got := s.balance("dave"); got != 100_000 {
		t.Errorf("balance %d, want 100000", got)
	}
}

// publish sends a command to a participant directly, as the orchestrator
// (or an operator's replay) would.
func (s *stack) publish(t *testing.T, topicName string, m envelope.Message) {
	t.Helper()
	w := broker.NewWriter([]string{s.brokers}, nil)
	defer w.Close()
	v, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	err = w.WriteMessages(context.Background(), kafka.Message{Topic: topicName, Key: []byte(m.SagaID), Value: v,
		Headers: []kafka.Header{{Key: envelope.HeaderMessageID, Value: []byte(m.ID.String())}, {Key: envelope.HeaderType, Value: []byte(m.Type)}}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCompensationBeforeCommandLeavesNoReservation(t *testing.T) {
	s := newStack(t, options{})
	s.item("vase", 900, 4)
	orderID := "01900000-0000-7000-8000-000000000001"
	release, err := envelope.New(stockmsg.TypeRelease, orderID, stockmsg.Release{OrderID: orderID})
	if err != nil {
		t.Fatal(err)
	}
	s.publish(t, topic.StockCompensation, release)
	waitFor(t, 20*time.Second, "the tombstone", func() bool {
		var n int
		_ = s.dbs["stock"].Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM reservations WHERE order_id = $1 AND status = 'CANCELLED'`, orderID).Scan(&n)
		return n == 1
	})
	reserve, err := envelope.New(stockmsg.TypeReserve, orderID, stockmsg.Reserve{OrderID: orderID, Lines: []stockmsg.Line{{ItemID: "vase", Quantity: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	s.publish(t, topic.Stock, reserve)
	waitFor(t, 20*time.Second, "the cancelled rejection", func() bool {
		var n int
		_ = s.dbs["stock"].Pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox
			WHERE topic = 'stock.dlt' AND key = $1 AND headers->>'dlt-reason' = 'rejected' AND headers->>'dlt-error' = 'cancelled'`, orderID).Scan(&n)
		return n == 1
	})
	if it := s.stockOf("vase"); it.Reserved != 0 || it.Available != 4 {
		t.Errorf("stock %+v, want nothing reserved after a reserve that came after its release", it)
	}
}

func TestCommandDeliveredTwiceHasOneEffect(t *testing.T) {
	s := newStack(t, options{})
	s.item("mug", 400, 10)
	orderID := "01900000-0000-7000-8000-000000000002"
	reserve, err := envelope.New(stockmsg.TypeReserve, orderID, stockmsg.Reserve{OrderID: orderID, Lines: []stockmsg.Line{{ItemID: "mug", Quantity: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	s.publish(t, topic.Stock, reserve) // delivered twice with the same id
	s.publish(t, topic.Stock, reserve)
	replay, err := envelope.New(stockmsg.TypeReserve, orderID, stockmsg.Reserve{OrderID: orderID, Lines: []stockmsg.Line{{ItemID: "mug", Quantity: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	s.publish(t, topic.Stock, replay) // and replayed with a fresh id
	waitFor(t, 20*time.Second, "three replies", func() bool {
		var n int
		_ = s.dbs["stock"].Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM inbox WHERE message_id = ANY($1)`, []string{reserve.ID.String(), replay.ID.String()}).Scan(&n)
		return n == 2
	})
	if it := s.stockOf("mug"); it.Reserved != 3 {
		t.Errorf("%d reserved, want 3: one effect for a command delivered three times", it.Reserved)
	}
}

// An order times out while stock-service is down: payment's success is
// compensated, and the reserve that reaches stock-service after the saga's
// deadline is refused as expired, reserving nothing: a backlog does not
// turn into reservations that must be given back.
func TestTimeoutThenLateCommandIsRefusedAsExpired(t *testing.T) {
	s := newStack(t, options{sagaTimeout: "2s", skip: []string{"stock"}})
	// The catalog needs an item; with stock-service down, seed it through
	// the items topic as stock-service would.
	item, err := envelope.New(stockmsg.TypeItemUpdated, "clock", stockmsg.ItemUpdated{ID: "clock", Name: "clock", PriceCents: 2500, Currency: "EUR", Available: 3})
	if err != nil {
		t.Fatal(err)
	}
	s.publish(t, topic.Items, item)
	s.waitCatalog("clock", 3)
	s.account("erin", 10_000)

	o := s.place("erin", line{"clock", 1})
	var failed orderView
	waitFor(t, 20*time.Second, "the timeout", func() bool {
		s.call("GET", s.url("order", "/orders/"+o.ID), nil, false, &failed)
		return failed.Status == "FAILED"
	})
	if failed.FailureReason != "timeout" || failed.Steps.Stock.Status != "PENDING" {
		t.Fatalf("order %+v, want FAILED by timeout with stock still pending", failed)
	}

	// stock-service comes up late, with the item in its database.
	stock := s.svcs["stock"]
	if out, err := stock.run("migrate"); err != nil {
		t.Fatalf("stock-service migrate: %v\n%s", err, out)
	}
	if _, err := s.dbs["stock"].Pool.Exec(context.Background(),
		`INSERT INTO items (id, name, price_cents, currency, on_hand) VALUES ('clock', 'clock', 2500, 'EUR', 3)`); err != nil {
		t.Fatal(err)
	}
	stock.start()
	stock.waitReady(60 * time.Second)

	got := s.settled(o.ID, 60*time.Second)
	if got.Status != "FAILED" || got.FailureReason != "timeout" || got.Steps.Payment.Status != "COMPENSATED" ||
		got.Steps.Stock.Status != "FAILED" || got.Steps.Stock.Reason != "expired" {
		t.Errorf("order %+v, want FAILED by timeout, payment refunded, the late reserve refused as expired", got)
	}
	if it := s.stockOf("clock"); it.Reserved != 0 {
		t.Errorf("%d reserved by an expired reserve, want 0", it.Reserved)
	}
	if got := s.balance("erin"); got != 10_000 {
		t.Errorf("balance %d, want 10000 after the refund", got)
	}
}

// tryPlace places an order and returns its id, or "" when the sold-out
// gate refused it (409 out-of-stock), or an error instead of failing the
// test: for goroutines other than the test's.
func (s *stack) tryPlace(customer string, lines ...line) (string, error) {
	var o orderView
	code, err := s.request("POST", s.url("order", "/orders"), map[string]any{"customer_id": customer, "lines": lines}, &o)
	switch {
	case err == nil && code == 409:
		return "", nil
	case err == nil && code != 201:
		err = fmt.Errorf("POST /orders for %s: status %d, want 201 or 409", customer, code)
	}
	return o.ID, err
}

// shrinkStock sets item id's units on hand in stockdb behind stock-service's
// back, so that the catalog shows more than stock-service has: the case
// where the catalog lags and the participant must refuse.
func (s *stack) shrinkStock(id string, onHand int64) {
	s.t.Helper()
	tag, err := s.dbs["stock"].Pool.Exec(context.Background(), `UPDATE items SET on_hand = $2 WHERE id = $1`, id, onHand)
	if err != nil || tag.RowsAffected() != 1 {
		s.t.Fatalf("shrink stock of %s: %v (%d rows)", id, err, tag.RowsAffected())
	}
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
