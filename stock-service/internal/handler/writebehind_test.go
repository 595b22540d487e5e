package handler_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/servicetest"

	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/stock-service/internal/handler"
)

// applyBatch applies ds in one transaction of pool as the consumer applies
// a batch: Lock with all of them, Handle each, the BeforeCommit hooks,
// the commit.
func applyBatch(t *testing.T, pool *pgxpool.Pool, ds ...consumer.Delivery) {
	t.Helper()
	h := handler.New(currency, "stock-service")
	if err := servicetest.ApplyBatch(pool, h.Lock, h.Handle, ds...); err != nil {
		t.Fatal(err)
	}
}

// stockState is what a database holds after some commands: the items,
// the reservations, and the replies in the order they were written.
type stockState struct {
	items, reservations, replies []string
}

func (e *env) state(t *testing.T) stockState {
	t.Helper()
	var s stockState
	for _, table := range []struct {
		dst   *[]string
		query string
	}{
		{&s.items, `SELECT concat_ws(' ', id, name, price_cents, currency, on_hand, reserved) FROM items ORDER BY id`},
		{&s.reservations, `SELECT concat_ws(' ', order_id, status, lines) FROM reservations ORDER BY order_id`},
	} {
		rows, _ := e.DB.Pool.Query(context.Background(), table.query)
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		*table.dst = got
	}
	for _, r := range e.replies(t) {
		s.replies = append(s.replies, strings.Join([]string{r.Topic, r.Key, r.Message.Type, r.Reason, r.Error, string(r.Message.Data)}, " "))
	}
	return s
}

// A batch mixing, for the same and for different orders, reserves,
// releases, a release before its reserve, repeated reserves and releases,
// refusals of every kind and orders that stock acted on before the batch
// ends in exactly the state and the replies that the same commands give
// applied one at a time; and it writes one snapshot per item it changed,
// with the item as the batch left it.
func TestBatchWritesWhatOneCommandAtATimeWrites(t *testing.T) {
	t.Parallel()
	before := func(t *testing.T) []consumer.Delivery {
		return []consumer.Delivery{
			reserve(t, "o9", line("c", 2)),
			release(t, "o10"),
			reserve(t, "o11", line("c", 1)), release(t, "o11"),
		}
	}
	past := time.Now().Add(-time.Minute)
	batch := []consumer.Delivery{
		reserve(t, "o1", line("a", 2), line("b", 1)),
		release(t, "o2"),                                                                 // before its reserve: a tombstone
		reserve(t, "o2", line("a", 1)),                                                   // cancelled
		reserve(t, "o3", line("a", 2)),                                                   // a: 1 left
		reserve(t, "o1", line("a", 2), line("b", 1)),                                     // again: answered as the first
		reserve(t, "o4", line("a", 2)),                                                   // out of stock
		reserve(t, "o5", line("x", 1), line("a", 1)),                                     // unknown item
		release(t, "o3"),                                                                 // a: 3 left
		reserve(t, "o6", line("b", 2), line("a", 3)),                                     // a and b: none left
		reserve(t, "o7", line("b", 1)),                                                   // out of stock
		release(t, "o1"),                                                                 // a: 2, b: 1 left
		release(t, "o1"),                                                                 // again: nothing to give back
		reserve(t, "o8", line("c", 1)), release(t, "o8"), reserve(t, "o8", line("c", 1)), // the last cancelled
		reserve(t, "o9", line("c", 2)),                // reserved before the batch: answered as then
		release(t, "o9"),                              // gives back units reserved before the batch
		reserve(t, "o10", line("c", 1)),               // released before the batch: cancelled
		release(t, "o11"),                             // released before the batch: nothing to give back
		reserveBy(t, "o12", past, line("c", 1)),       // expired
		reserve(t, "o13", line("a", 1), line("a", 1)), // merged: a: none left
	}
	var want stockState
	for _, mode := range []string{"one at a time", "one batch"} {
		e := newEnv(t)
		for id, n := range map[string]int64{"a": 5, "b": 3, "c": 10, "d": 1} {
			e.item(t, id, n)
		}
		for _, d := range before(t) {
			e.MustDeliver(t, d)
		}
		published := len(e.Outbox(t, topic.Items))
		if mode == "one at a time" {
			for _, d := range batch {
				e.MustDeliver(t, d)
			}
			want = e.state(t)
			continue
		}
		applyBatch(t, e.DB.Pool, batch...)
		got := e.state(t)
		for _, c := range []struct {
			what      string
			got, want []string
		}{{"items", got.items, want.items}, {"reservations", got.reservations, want.reservations}, {"replies", got.replies, want.replies}} {
			if !slices.Equal(c.got, c.want) {
				t.Errorf("%s after one batch:\n\t%s\nafter one command at a time:\n\t%s",
					c.what, strings.Join(c.got, "\n\t"), strings.Join(c.want, "\n\t"))
			}
		}
		count := map[string]int{}
		for _, r := range e.Outbox(t, topic.Items)[published:] {
			u := servicetest.Data[stockmsg.ItemUpdated](t, r.Message)
			count[u.ID]++
			if got, want := u.Available, e.get(t, u.ID).Available(); got != want {
				t.Errorf("snapshot of %s: available %d, want %d", u.ID, got, want)
			}
		}
		if want := map[string]int{"a": 1, "b": 1, "c": 1}; !maps.Equal(count, want) {
			t.Errorf("snapshots per item %v, want %v", count, want)
		}
	}
}

// statements records the statements a pool's connections send, and the
// round trips they take: a query is one, a pgx.Batch one for all its
// statements.
type statements struct {
	mu         sync.Mutex
	sql        []string
	roundTrips int
}

func (s *statements) add(sql string, roundTrip bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sql = append(s.sql, strings.Join(strings.Fields(sql), " "))
	if roundTrip {
		s.roundTrips++
	}
}

func (s *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	s.add(d.SQL, true)
	return ctx
}

func (s *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (s *statements) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roundTrips++
	return ctx
}

func (s *statements) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	s.add(d.SQL, false)
}

func (s *statements) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// A batch sends the same statements, in as many round trips, whether it
// holds one order or fifty: its commands change the items and the
// reservations in memory, and the batch writes them, its snapshots and its
// replies with a few set-based statements before it commits.
func TestBatchStatementsDoNotGrowWithTheBatch(t *testing.T) {
	t.Parallel()
	sent := map[int]*statements{}
	for _, n := range []int{1, 50} {
		e := newEnv(t)
		for _, id := range []string{"a", "b", "c"} {
			e.item(t, id, 1000)
		}
		cfg, err := pgxpool.ParseConfig(e.DB.URL)
		if err != nil {
			t.Fatal(err)
		}
		sent[n] = &statements{}
		cfg.MaxConns, cfg.ConnConfig.Tracer = 1, sent[n]
		pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)

		// n reserves of the same few items; every other order released
		// again in the batch.
		var ds []consumer.Delivery
		for i := range n {
			ds = append(ds, reserve(t, fmt.Sprintf("o%d", i), line("a", 1), line([]string{"b", "c"}[i%2], 2)))
		}
		for i := 0; i < n; i += 2 {
			ds = append(ds, release(t, fmt.Sprintf("o%d", i)))
		}
		applyBatch(t, pool, ds...)

		held := int64(n / 2) // the odd orders
		if got := e.get(t, "a").Reserved; got != held {
			t.Errorf("%d orders: a reserved %d, want %d", n, got, held)
		}
		if got := len(e.replies(t)); got != len(ds) {
			t.Errorf("%d orders: %d replies, want %d", n, got, len(ds))
		}
	}
	one, many := sent[1], sent[50]
	if !slices.Equal(one.sql, many.sql) || one.roundTrips != many.roundTrips {
		t.Errorf("a batch of 50 orders sent %d statements in %d round trips:\n\t%s\none of 1 order %d in %d:\n\t%s",
			len(many.sql), many.roundTrips, strings.Join(many.sql, "\n\t"), len(one.sql), one.roundTrips, strings.Join(one.sql, "\n\t"))
	}
	t.Logf("a batch: %d statements in %d round trips:\n\t%s", len(one.sql), one.roundTrips, strings.Join(one.sql, "\n\t"))
}
