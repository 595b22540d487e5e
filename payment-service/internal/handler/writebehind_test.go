package handler_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/servicetest"

	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/payment-service/internal/handler"
)

// applyBatch applies ds on pool as the consumer applies a fetched batch:
// one transaction, Lock with the whole batch, Handle per message, the
// hooks just before the commit.
func applyBatch(t *testing.T, pool *pgxpool.Pool, ds ...consumer.Delivery) {
	t.Helper()
	h := handler.New("payment-service")
	if err := servicetest.ApplyBatch(pool, h.Lock, h.Handle, ds...); err != nil {
		t.Fatal(err)
	}
}

func chargeIn(t *testing.T, order, customer string, cents int64, currency string) consumer.Delivery {
	return servicetest.NewDelivery(t, topic.Payment, paymentmsg.TypeCharge, order,
		paymentmsg.Charge{OrderID: order, CustomerID: customer, AmountCents: cents, Currency: currency})
}

// outcome is what commands leave behind: balances, charges and replies.
type outcome struct {
	Balances map[string]int64
	Charges  []string
	Replies  []string
}

func (e *env) outcome(t *testing.T, accounts ...string) outcome {
	t.Helper()
	o := outcome{Balances: map[string]int64{}}
	for _, id := range accounts {
		o.Balances[id] = e.balance(t, id)
	}
	rows, _ := e.DB.Pool.Query(context.Background(),
		`SELECT format('%s %s %s %s', order_id, account_id, amount_cents, status) FROM charges ORDER BY order_id`)
	charges, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	o.Charges = charges
	for _, r := range e.replies(t) {
		o.Replies = append(o.Replies, fmt.Sprintf("%s %s %s/%s %s %s", r.Topic, r.Key, r.Reason, r.Error, r.Message.Type, r.Message.Data))
	}
	return o
}

// One batch mixing every kind of command, for the same and different
// accounts, leaves exactly the balances, charges and replies that the
// same commands applied one at a time (each in its own transaction, with
// the direct statements) leave.
func TestBatchEndsAsCommandsOneAtATime(t *testing.T) {
	t.Parallel()
	before := []consumer.Delivery{
		charge(t, "p1", "c", 60), // refunded in the batch
		refund(t, "p2"),          // a tombstone the batch's charge meets
	}
	batch := []consumer.Delivery{
		charge(t, "o1", "a", 200),
		charge(t, "o2", "b", 300),                   // b drained to 0
		charge(t, "o3", "a", 300),                   // a drained to 0
		charge(t, "o4", "a", 1),                     // insufficient funds
		chargeIn(t, "o5", "b", 50, "USD"),           // wrong currency
		charge(t, "o6", "nobody", 10),               // unknown account
		refund(t, "o1"),                             // a back to 200
		refund(t, "o7"),                             // before its charge: tombstone
		charge(t, "o7", "a", 10),                    // cancelled
		charge(t, "o2", "b", 300),                   // duplicate: answered as the first
		charge(t, "o8", "a", 200),                   // a drained to 0 again
		charge(t, "o9", "b", 1),                     // insufficient funds
		refund(t, "p1"),                             // a charge of an earlier transaction
		charge(t, "p2", "c", 10),                    // cancelled by an earlier tombstone
		refund(t, "o1"),                             // again: nothing more
		charge(t, "o10", "c", 100),                  // c drained to 0
		refund(t, "o6"),                             // of a refused charge: tombstone
		charge(t, "o11", strings.Repeat("é", 3), 1), // unknown account
	}
	run := func(apply func(e *env)) outcome {
		e := newEnv(t)
		e.account(t, "a", 500)
		e.account(t, "b", 300)
		e.account(t, "c", 100)
		for _, d := range before {
			e.MustDeliver(t, d)
		}
		apply(e)
		return e.outcome(t, "a", "b", "c")
	}
	alone := run(func(e *env) {
		for _, d := range batch {
			e.MustDeliver(t, d)
		}
	})
	batched := run(func(e *env) { applyBatch(t, e.DB.Pool, batch...) })

	if !reflect.DeepEqual(batched, alone) {
		t.Errorf("as one batch:\n%s\none at a time:\n%s", format(batched), format(alone))
	}
	if want := map[string]int64{"a": 0, "b": 0, "c": 0}; !reflect.DeepEqual(batched.Balances, want) {
		t.Errorf("balances %v, want %v", batched.Balances, want)
	}
	for _, want := range []string{
		"insufficient_funds", "account a holds 0, the charge is 1", "account b holds 0, the charge is 1",
		"currency_mismatch", "unknown_account", "cancelled",
	} {
		if !strings.Contains(format(batched), want) {
			t.Errorf("no reply says %q:\n%s", want, format(batched))
		}
	}
}

func format(o outcome) string {
	return fmt.Sprintf("balances %v\ncharges\n\t%s\nreplies\n\t%s", o.Balances,
		strings.Join(o.Charges, "\n\t"), strings.Join(o.Replies, "\n\t"))
}

// statements counts the statements and round trips a pool sends.
type statements struct {
	mu                     sync.Mutex
	statements, roundTrips int
	sql                    []string
}

func (s *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statements, s.roundTrips, s.sql = s.statements+1, s.roundTrips+1, append(s.sql, d.SQL)
	return ctx
}

func (s *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (s *statements) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statements, s.roundTrips = s.statements+d.Batch.Len(), s.roundTrips+1
	for _, q := range d.Batch.QueuedQueries {
		s.sql = append(s.sql, q.SQL)
	}
	return ctx
}

func (s *statements) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (s *statements) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// reset returns the counts so far and starts again.
func (s *statements) reset() (statements, roundTrips int, sql []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	statements, roundTrips, sql = s.statements, s.roundTrips, s.sql
	s.statements, s.roundTrips, s.sql = 0, 0, nil
	return statements, roundTrips, sql
}

// A batch sends as many statements for fifty charges, refusals among
// them, as for one: the commands change the batch in memory, and its
// changes are written together just before the commit.
func TestBatchStatementsDoNotGrowWithItsCommands(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	accounts := []string{"x", "y", "z"}
	for _, id := range append(accounts, "one") {
		e.account(t, id, 1000)
	}
	count := &statements{}
	cfg, err := pgxpool.ParseConfig(e.DB.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns, cfg.ConnConfig.Tracer = 1, count
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)

	applyBatch(t, pool, charge(t, "single", "one", 100))
	oneStatements, oneTrips, oneSQL := count.reset()
	var fifty []consumer.Delivery
	for i := range 50 {
		fifty = append(fifty, charge(t, fmt.Sprintf("o%d", i), accounts[i%len(accounts)], 100))
	}
	applyBatch(t, pool, fifty...)
	statements, trips, sql := count.reset()

	if statements != oneStatements || trips != oneTrips {
		t.Errorf("50 charges: %d statements in %d round trips, 1 charge: %d in %d; want as many\n50:\n\t%s\n1:\n\t%s",
			statements, trips, oneStatements, oneTrips, strings.Join(sql, "\n\t"), strings.Join(oneSQL, "\n\t"))
	}
	t.Logf("a batch: %d statements in %d round trips", statements, trips)
	// 10 of each account's charges fit, the other 20 are refused.
	for _, id := range accounts {
		if got := e.balance(t, id); got != 0 {
			t.Errorf("balance of %s = %d, want 0", id, got)
		}
	}
	replies := map[string]int{}
	for _, r := range e.replies(t) {
		replies[r.Message.Type]++
	}
	if want := map[string]int{paymentmsg.TypeCharged: 31, paymentmsg.TypeRejected: 20}; !reflect.DeepEqual(replies, want) {
		t.Errorf("replies %v, want %v", replies, want)
	}
}
