package timeline

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/dlt"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/outbox"
	"github.com/purchase-saga/messaging/testbroker"
	"github.com/purchase-saga/messaging/testdb"
	"github.com/purchase-saga/messaging/trace"
	"github.com/purchase-saga/migrations"
)

// saga is a saga written into real databases and a real broker as the
// services would have left it: an order, its outbox rows, its records on
// the topics and a dead letter.
type saga struct {
	id      string
	src     Sources
	charge  envelope.Message
	reserve envelope.Message
	traceID string // of the saga's messages
}

func newSaga(t *testing.T) *saga {
	t.Helper()
	ctx, span := trace.Start(context.Background(), "POST /orders") // the saga's trace, as order-service starts it
	defer span.End()
	sagaCtx := ctx
	b := testbroker.New(t, 3, sagaTopics()...)
	s := &saga{src: Sources{DBs: map[string]*pgxpool.Pool{}, Brokers: b.Addrs}, traceID: span.SpanContext().TraceID().String()}
	for _, name := range DatabaseNames {
		s.src.DBs[name] = testdb.New(t, migrations.For(name)).Pool
	}
	var err error
	s.reserve, err = envelope.New("stock.reserve", "", map[string]any{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	s.id = s.reserve.ID.String() // a UUIDv7, as order ids are
	s.reserve.SagaID = s.id
	s.charge, _ = envelope.New("payment.charge", s.id, map[string]any{"n": 1})
	created := time.Now().Add(-2 * time.Second).UTC()
	order := s.src.DBs[OrderDB]
	_, err = order.Exec(ctx, `INSERT INTO orders (id, customer_id, lines, amount_cents, currency, status, failure_reason, steps, deadline, created_at, updated_at)
		VALUES ($1, 'carol', '[{"item_id":"chair","quantity":1,"unit_price_cents":5000}]', 5000, 'EUR', 'FAILED', 'insufficient_funds',
		        $2, $3, $4, $5)`, s.id,
		`{"stock":{"status":"COMPENSATED","reason":"","updated_at":"`+created.Add(300*time.Millisecond).Format(time.RFC3339Nano)+`"},
		  "payment":{"status":"FAILED","reason":"insufficient_funds","updated_at":"`+created.Add(200*time.Millisecond).Format(time.RFC3339Nano)+`"}}`,
		created.Add(30*time.Second), created, created.Add(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	write := func(db string, records ...outbox.Record) {
		err := pgx.BeginFunc(ctx, s.src.DBs[db], func(tx pgx.Tx) error { return outbox.Write(ctx, tx, records...) })
		if err != nil {
			t.Fatal(err)
		}
	}
	write(OrderDB, outbox.Record{Topic: topic.Stock, Key: s.id, Message: s.reserve}, outbox.Record{Topic: topic.Payment, Key: s.id, Message: s.charge})
	other, _ := envelope.New("payment.charge", "someone-else", map[string]any{})
	ctx = context.Background() // another saga, another trace
	write(PaymentDB, outbox.Record{Topic: topic.Payment, Key: "someone-else", Message: other})
	// The relay published the first two rows of orderdb.
	if _, err := order.Exec(ctx, `UPDATE outbox_relay SET published_to = 1`); err != nil {
		t.Fatal(err)
	}
	traced, publish := trace.Start(sagaCtx, "publish stock") // as the relay does
	defer publish.End()
	w := broker.NewWriter(b.Addrs, nil)
	defer w.Close()
	reserveValue, _ := s.reserve.Encode()
	chargeValue, _ := s.charge.Encode()
	reserveRec := kafka.Message{Topic: topic.Stock, Key: []byte(s.id), Value: reserveValue, Headers: headers(s.reserve, trace.Traceparent(traced))}
	chargeRec := kafka.Message{Topic: topic.Payment, Key: []byte(s.id), Value: chargeValue, Headers: headers(s.charge, trace.Traceparent(traced))}
	if err := w.WriteMessages(ctx, reserveRec, chargeRec); err != nil {
		t.Fatal(err)
	}
	dead := dlt.Record(topic.PaymentDLT, chargeRec, dlt.Failure{Reason: dlt.ReasonRejected, Err: "insufficient_funds", Attempts: 1,
		Service: "payment-service", Origin: dlt.Origin{Topic: topic.Payment, Partition: 1, Offset: 0}})
	if err := w.WriteMessages(ctx, dead); err != nil {
		t.Fatal(err)
	}
	return s
}

func headers(m envelope.Message, traceparent string) []kafka.Header {
	return []kafka.Header{{Key: envelope.HeaderMessageID, Value: []byte(m.ID.String())}, {Key: envelope.HeaderType, Value: []byte(m.Type)},
		{Key: envelope.HeaderTraceparent, Value: []byte(traceparent)}}
}

func TestTimelineShowsTheOrderItsOutboxRowsRecordsAndDeadLettersInTimeOrder(t *testing.T) {
	s := newSaga(t)
	tl, err := Load(context.Background(), s.src, s.id)
	if err != nil {
		t.Fatal(err)
	}
	if tl.Order == nil || tl.Order.Status != "FAILED" || len(tl.Order.Steps) != 2 || tl.Order.Steps[0].Name != "payment" {
		t.Fatalf("order %+v, want the FAILED order with its two steps by name", tl.Order)
	}
	var kinds []string
	count := map[string]int{}
	for i, e := range tl.Events {
		if i > 0 && e.At.Before(tl.Events[i-1].At) {
			t.Errorf("event %d (%s %s) is before the one above it", i, e.Kind, e.What)
		}
		kinds = append(kinds, e.Kind+":"+e.What)
		count[e.Kind]++
	}
	want := map[string]int{KindOrder: 2, KindStep: 2, KindOutbox: 2, KindRecord: 2, KindDeadLetter: 1}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%d %s events, want %d: %v", count[k], k, n, kinds)
		}
	}
	if kinds[0] != "order:placed" {
		t.Errorf("first event %s, want the order placed", kinds[0])
	}
	var text bytes.Buffer
	if err := tl.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	out := text.String()
	for _, want := range []string{
		"customer carol, 1 line(s), 50.00 EUR, FAILED (insufficient_funds)",
		"orderdb outbox  row 1",         // published, and seen on its topic
		"published: stock/",             // the outbox row names its record
		"to payment, not yet published", // row 2 is above the relay's position
		"payment.dlt/",
		"rejected from payment/1/0 by payment-service, 1 attempt(s): insufficient_funds",
		"9 event(s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("saga show text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "someone-else") {
		t.Errorf("another saga's row is shown:\n%s", out)
	}
	if len(tl.Notes) != 0 {
		t.Errorf("notes %v, want none", tl.Notes)
	}
	if got, want := strings.Join(tl.TraceIDs, " "), s.traceID; got != want {
		t.Errorf("trace ids %q, want the saga's trace %s alone (from its outbox rows and records)", got, want)
	}
}

// Rows the purge took are said, and an order id that is nowhere is said
// so without an error.
func TestTimelineSaysWhatIsGone(t *testing.T) {
	s := newSaga(t)
	ctx := context.Background()
	if _, err := s.src.DBs[OrderDB].Exec(ctx, `DELETE FROM outbox`); err != nil {
		t.Fatal(err)
	}
	tl, err := Load(ctx, s.src, s.id)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tl.Notes, "\n"); !strings.Contains(got, "orderdb outbox: no rows left for this saga: published rows are purged") {
		t.Errorf("notes %q, want the purge said", got)
	}
	tl, err = Load(ctx, Sources{DBs: map[string]*pgxpool.Pool{OrderDB: s.src.DBs[OrderDB]}}, "no-such-order")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(tl.Notes, "\n")
	for _, want := range []string{"no order no-such-order", "no brokers given", "stock database not given"} {
		if !strings.Contains(got, want) {
			t.Errorf("notes %q lack %q", got, want)
		}
	}
}

func TestListOrdersNewestFirstWithFiltersAndPages(t *testing.T) {
	s := newSaga(t)
	ctx := context.Background()
	pool := s.src.DBs[OrderDB]
	var ids []string
	for i, status := range []string{"COMPLETED", "FAILED", "COMPLETED"} {
		m, _ := envelope.New("x", "", nil)
		ids = append(ids, m.ID.String())
		_, err := pool.Exec(ctx, `INSERT INTO orders (id, customer_id, lines, amount_cents, currency, status, steps, deadline, created_at)
			VALUES ($1, $2, '[]', 100, 'EUR', $3, '{}', now(), now() + make_interval(secs => $4))`, m.ID, []string{"alice", "bob", "alice"}[i], status, i)
		if err != nil {
			t.Fatal(err)
		}
	}
	page := func(q Query) (string, string) {
		t.Helper()
		os, next, err := ListOrders(ctx, pool, q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range os {
			got = append(got, o.ID)
		}
		return strings.Join(got, ","), next
	}
	if got, next := page(Query{Limit: 2}); got != ids[2]+","+ids[1] || next != ids[1] {
		t.Errorf("first page %s (next %s), want the two newest", got, next)
	}
	if got, next := page(Query{Limit: 2, After: ids[1]}); got != ids[0]+","+s.id || next != "" {
		t.Errorf("second page %s (next %q), want the two oldest, and no next", got, next)
	}
	if got, _ := page(Query{Status: "COMPLETED", Customer: "alice"}); got != ids[2]+","+ids[0] {
		t.Errorf("alice's completed orders: %s", got)
	}
	if got, _ := page(Query{Reason: "insufficient_funds"}); got != s.id {
		t.Errorf("orders failed for insufficient funds: %s, want %s", got, s.id)
	}
	if got, _ := page(Query{Since: time.Now().Add(1500 * time.Millisecond)}); got != ids[2] {
		t.Errorf("orders since a second and a half from now: %s, want the last", got)
	}
}
