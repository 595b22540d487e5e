package saga_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/purchase-saga/contract/ordermsg"
	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/messaging/testdb"
	"github.com/purchase-saga/messaging/trace"
	"github.com/purchase-saga/migrations"
	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
	"github.com/purchase-saga/order-service/internal/saga"
)

var migrate = migrations.For(migrations.Order)

// newSaga returns an orchestrator on a fresh orderdb whose catalog holds
// book (500 cents) and pen (100 cents).
func newSaga(t *testing.T, timeout time.Duration) (*saga.Saga, *testdb.DB) {
	t.Helper()
	db := testdb.New(t, migrate)
	for _, it := range []postgres.Item{{ID: "book", Name: "Book", PriceCents: 500, Currency: "EUR", Available: 10},
		{ID: "pen", Name: "Pen", PriceCents: 100, Currency: "EUR", Available: 10},
		{ID: "dollar-hat", Name: "Hat", PriceCents: 100, Currency: "USD", Available: 10}} {
		if err := postgres.NewStore(db.Pool).Catalog().Upsert(context.Background(), it); err != nil {
			t.Fatal(err)
		}
	}
	store := postgres.NewStore(db.Pool)
	pools.Store(store, db.Pool)
	return &saga.Saga{Store: store, Currency: "EUR", Timeout: timeout, Log: slog.Default()}, db
}

// pools are the pools of the stores newSaga made, for the checks and
// transactions of the tests that go behind the saga's back.
var pools sync.Map

// poolOf returns the pool of s's store, which newSaga made.
func poolOf(s *saga.Saga) *pgxpool.Pool {
	p, _ := pools.Load(s.Store)
	return p.(*pgxpool.Pool)
}

// step returns o's step name; the order must have it.
func step(t *testing.T, o order.Order, name order.StepName) order.Step {
	t.Helper()
	s, ok := o.Steps.Get(name)
	if !ok {
		t.Fatalf("order %s has no step %q: %+v", o.ID, name, o.Steps)
	}
	return s
}

// outboxTypes counts outbox rows by message type for key.
func outboxTypes(t *testing.T, pool *pgxpool.Pool, key string) map[string]int {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT headers->>'type', count(*) FROM outbox WHERE key = $1 GROUP BY 1`, key)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var typ string
		var n int
		if err := rows.Scan(&typ, &n); err != nil {
			t.Fatal(err)
		}
		out[typ] = n
	}
	return out
}

// reply applies a participant's reply to the order through Handle.
func reply(t *testing.T, s *saga.Saga, topicName, typ, orderID string, data any) error {
	t.Helper()
	m, err := envelope.New(typ, orderID, data)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tx, err := poolOf(s).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if err := s.Handle(ctx, tx, consumer.Delivery{Message: m, Topic: topicName, Key: orderID,
		Headers: map[string]string{"dlt-reason": "rejected"}}); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func TestPlaceWritesTheOrderAndItsFirstMessagesTogether(t *testing.T) {
	s, db := newSaga(t, time.Minute)
	o, created, err := s.Place(context.Background(), saga.PlaceRequest{CustomerID: "c1",
		Lines: []saga.LineRequest{{ItemID: "book", Quantity: 2}, {ItemID: "pen", Quantity: 3}}}, "")
	if err != nil || !created {
		t.Fatalf("Place = %v, created %v", err, created)
	}
	if got, want := o.AmountCents, int64(2*500+3*100); got != want {
		t.Errorf("amount %d, want %d", got, want)
	}
	got := outboxTypes(t, db.Pool, o.ID)
	want := map[string]int{stockmsg.TypeReserve: 1, paymentmsg.TypeCharge: 1, "order.placed": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("outbox %v, want %v", got, want)
	}
}

func TestPlaceRefusesInvalidOrders(t *testing.T) {
	s, db := newSaga(t, time.Minute)
	for name, req := range map[string]saga.PlaceRequest{
		"no customer":    {Lines: []saga.LineRequest{{ItemID: "book", Quantity: 1}}},
		"no lines":       {CustomerID: "c1"},
		"zero quantity":  {CustomerID: "c1", Lines: []saga.LineRequest{{ItemID: "book", Quantity: 0}}},
		"duplicate item": {CustomerID: "c1", Lines: []saga.LineRequest{{ItemID: "book", Quantity: 1}, {ItemID: "book", Quantity: 2}}},
		"unknown item":   {CustomerID: "c1", Lines: []saga.LineRequest{{ItemID: "lamp", Quantity: 1}}},
		"other currency": {CustomerID: "c1", Lines: []saga.LineRequest{{ItemID: "dollar-hat", Quantity: 1}}},
	} {
		if _, _, err := s.Place(context.Background(), req, ""); !errors.Is(err, order.ErrInvalid) {
			t.Errorf("%s: Place = %v, want ErrInvalid", name, err)
		}
	}
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d outbox rows after refused orders (err %v), want 0", n, err)
	}
}

func TestIdempotencyKey(t *testing.T) {
	s, db := newSaga(t, time.Minute)
	req := saga.PlaceRequest{CustomerID: "c1", Lines: []saga.LineRequest{{ItemID: "book", Quantity: 1}}}
	first, created, err := s.Place(context.Background(), req, "key-1")
	if err != nil || !created {
		t.Fatal(err)
	}
	// Concurrent repeats all get the first order back.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			again, created, err := s.Place(context.Background(), req, "key-1")
			if err != nil || created || again.ID != first.ID {
				t.Errorf("repeat: %v, created %v, id %s (want %s)", err, created, again.ID, first.ID)
			}
		})
	}
	wg.Wait()
	other := saga.PlaceRequest{CustomerID: "c1", Lines: []saga.LineRequest{{ItemID: "book", Quantity: 2}}}
	if _, _, err := s.Place(context.Background(), other, "key-1"); !errors.Is(err, order.ErrIdempotencyKey) {
		t.Errorf("same key, other body: %v, want ErrIdempotencyKey", err)
	}
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM orders`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d orders, want 1", n)
	}
}

func TestRepliesDriveTheOrderAndCompensate(t *testing.T) {
	s, db := newSaga(t, time.Minute)
	o, _, err := s.Place(context.Background(), saga.PlaceRequest{CustomerID: "c1", Lines: []saga.LineRequest{{ItemID: "book", Quantity: 1}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := reply(t, s, topic.StockSuccess, stockmsg.TypeReserved, o.ID, stockmsg.Reserved{OrderID: o.ID}); err != nil {
		t.Fatal(err)
	}
	if err := reply(t, s, topic.PaymentDLT, paymentmsg.TypeRejected, o.ID, paymentmsg.Rejected{OrderID: o.ID, Reason: "insufficient_funds"}); err != nil {
		t.Fatal(err)
	}
	got, err := postgres.NewStore(db.Pool).Orders().Get(context.Background(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != order.Failed || got.FailureReason != "insufficient_funds" || step(t, got, "stock").Status != order.StepCompensating {
		t.Errorf("order %+v, want FAILED insufficient_funds with stock compensating", got)
	}
	if n := outboxTypes(t, db.Pool, o.ID)[stockmsg.TypeRelease]; n != 1 {
		t.Errorf("%d stock.release messages, want 1", n)
	}
	if err := reply(t, s, topic.StockSuccess, stockmsg.TypeReleased, o.ID, stockmsg.Released{OrderID: o.ID}); err != nil {
		t.Fatal(err)
	}
	got, _ = postgres.NewStore(db.Pool).Orders().Get(context.Background(), o.ID)
	if s := step(t, got, "stock"); s.Status != order.StepCompensated {
		t.Errorf("stock step %s after the release was acknowledged, want COMPENSATED", s.Status)
	}
	if n := outboxTypes(t, db.Pool, o.ID)["order.failed"]; n != 1 {
		t.Errorf("%d order.failed events, want 1", n)
	}
}

func TestRepliesThatCannotBeProcessedArePoison(t *testing.T) {
	s, _ := newSaga(t, time.Minute)
	unknown := "01900000-0000-7000-8000-00000000abcd"
	if err := reply(t, s, topic.StockSuccess, stockmsg.TypeReserved, unknown, stockmsg.Reserved{OrderID: unknown}); !errors.Is(err, consumer.ErrPoison) {
		t.Errorf("reply for an unknown order: %v, want poison", err)
	}
	if err := reply(t, s, topic.StockSuccess, "stock.exploded", unknown, map[string]string{}); !errors.Is(err, consumer.ErrPoison) {
		t.Errorf("unknown reply type: %v, want poison", err)
	}
	if err := reply(t, s, topic.StockSuccess, stockmsg.TypeReserved, "not-an-order", map[string]string{}); !errors.Is(err, consumer.ErrPoison) {
		t.Errorf("reply with a malformed saga id: %v, want poison", err)
	}
}

func TestConcurrentSweepsFailEachTimedOutOrderOnce(t *testing.T) {
	s, db := newSaga(t, -time.Second) // every order is overdue at once
	const orders = 300
	for i := range orders {
		if _, _, err := s.Place(context.Background(), saga.PlaceRequest{CustomerID: fmt.Sprintf("c%d", i),
			Lines: []saga.LineRequest{{ItemID: "pen", Quantity: 1}}}, ""); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	counts := make([]int, 3)
	for i := range counts {
		wg.Go(func() {
			n, err := s.Sweep(context.Background())
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		})
	}
	wg.Wait()
	if total := counts[0] + counts[1] + counts[2]; total != orders {
		t.Errorf("sweeps failed %v orders in all (%d), want each of %d once", counts, total, orders)
	}
	var failed, events int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM orders WHERE status = 'FAILED' AND failure_reason = 'timeout'`).Scan(&failed); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox WHERE headers->>'type' = 'order.failed'`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if failed != orders || events != orders {
		t.Errorf("%d orders failed by timeout with %d order.failed events, want %d of each", failed, events, orders)
	}
}

// Orders placed at the same time are written together, a few per
// transaction, each with its own messages; concurrent requests with one
// Idempotency-Key still make one order.
func TestConcurrentPlacementsAreGroupCommitted(t *testing.T) {
	s, db := newSaga(t, time.Minute)
	servicetest.Widen(t, db, 8)
	s.Store = postgres.NewStore(db.Pool)
	if err := postgres.NewStore(db.Pool).Catalog().Upsert(context.Background(), postgres.Item{ID: "pen", Name: "Pen", PriceCents: 100, Currency: "EUR", Available: 1000}); err != nil {
		t.Fatal(err)
	}
	const n = 60
	errs := servicetest.Race(n, func(i int) error {
		key := fmt.Sprintf("k%d", i%40) // keys k0..k19 are sent twice
		_, _, err := s.Place(context.Background(), saga.PlaceRequest{CustomerID: fmt.Sprintf("c%d", i%40),
			Lines: []saga.LineRequest{{ItemID: "pen", Quantity: 1}}}, key)
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("place %d: %v", i, err)
		}
	}
	var orders, txs, reserves int
	err := db.Pool.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT xmin::text),
		(SELECT count(*) FROM outbox WHERE headers->>'type' = 'stock.reserve') FROM orders`).Scan(&orders, &txs, &reserves)
	if err != nil {
		t.Fatal(err)
	}
	if orders != 40 || reserves != 40 {
		t.Errorf("%d orders with %d stock.reserve messages, want 40 of each (one per key)", orders, reserves)
	}
	if txs >= orders {
		t.Errorf("%d orders written in %d transactions: concurrent placements must share them", orders, txs)
	}
	t.Logf("%d orders in %d transactions", orders, txs)
}

// What the timeout sweep writes for an order continues the trace the order
// was placed in: one order, one trace, timed out or not.
func TestTheSweepContinuesTheOrdersTrace(t *testing.T) {
	s, db := newSaga(t, -time.Second) // overdue at once
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	ctx := trace.Extract(context.Background(), "00-"+traceID+"-00f067aa0ba902b7-01")
	o, _, err := s.Place(ctx, saga.PlaceRequest{CustomerID: "c", Lines: []saga.LineRequest{{ItemID: "pen", Quantity: 1}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v; want the order failed", n, err)
	}
	rows, err := db.Pool.Query(context.Background(),
		`SELECT headers->>'type', headers->>'traceparent' FROM outbox WHERE key = $1 ORDER BY id`, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	for rows.Next() {
		var typ, traceparent string
		if err := rows.Scan(&typ, &traceparent); err != nil {
			t.Fatal(err)
		}
		types[typ] = true
		if parts := strings.Split(traceparent, "-"); len(parts) != 4 || parts[1] != traceID {
			t.Errorf("%s written with traceparent %q, want one of trace %s", typ, traceparent, traceID)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !types[ordermsg.TypeFailed] {
		t.Errorf("outbox types %v: no %s from the sweep", types, ordermsg.TypeFailed)
	}
}
