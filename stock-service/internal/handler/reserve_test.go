package handler_test

import (
	"context"
	"strings"
	"testing"

	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/servicetest"

	"github.com/purchase-saga/contract/stockmsg"
)

func TestReserveHoldsEveryLineAndAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.item(t, "a", 5)
	e.item(t, "b", 3)
	before := len(e.Outbox(t, topic.Items))

	e.MustDeliver(t, reserve(t, "o1", line("b", 1), line("a", 2), line("a", 1)))

	if got, want := e.get(t, "a").Reserved, int64(3); got != want {
		t.Errorf("a reserved = %d, want %d (duplicate lines summed)", got, want)
	}
	if got, want := e.get(t, "b").Reserved, int64(1); got != want {
		t.Errorf("b reserved = %d, want %d", got, want)
	}
	if got, want := e.status(t, "o1"), "RESERVED"; got != want {
		t.Errorf("reservation status = %q, want %q", got, want)
	}
	replies := e.replies(t)
	if len(replies) != 1 {
		t.Fatalf("got %d replies, want 1: %+v", len(replies), replies)
	}
	r := replies[0]
	if r.Topic != topic.StockSuccess || r.Key != "o1" || r.Message.Type != stockmsg.TypeReserved || r.Message.SagaID != "o1" {
		t.Errorf("reply = %s key %s type %s saga %s, want stock.success key o1 stock.reserved saga o1",
			r.Topic, r.Key, r.Message.Type, r.Message.SagaID)
	}
	got := servicetest.Data[stockmsg.Reserved](t, r.Message)
	if want := []stockmsg.Line{line("a", 3), line("b", 1)}; len(got.Lines) != 2 || got.Lines[0] != want[0] || got.Lines[1] != want[1] {
		t.Errorf("reserved lines = %v, want %v", got.Lines, want)
	}
	updates := e.Outbox(t, topic.Items)[before:]
	avail := map[string]int64{}
	for _, u := range updates {
		avail[u.Key] = servicetest.Data[stockmsg.ItemUpdated](t, u.Message).Available
	}
	if len(updates) != 2 || avail["a"] != 2 || avail["b"] != 2 {
		t.Errorf("item.updated after reserve: %d rows, available %v; want a=2 and b=2", len(updates), avail)
	}
}

func TestReserveRefusalsReserveNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		lines  []stockmsg.Line
		reason string
		detail string
	}{
		{"out of stock", []stockmsg.Line{line("a", 6)}, stockmsg.ReasonOutOfStock, "a"},
		{"one line of several out of stock", []stockmsg.Line{line("a", 2), line("b", 4)}, stockmsg.ReasonOutOfStock, "b"},
		{"duplicate lines exceed together", []stockmsg.Line{line("a", 3), line("a", 3)}, stockmsg.ReasonOutOfStock, "a"},
		{"unknown item", []stockmsg.Line{line("a", 1), line("nope", 1)}, stockmsg.ReasonUnknownItem, "nope"},
		{"other currency", []stockmsg.Line{line("a", 1), line("usd", 1)}, stockmsg.ReasonCurrencyMismatch, "usd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.item(t, "a", 5)
			e.item(t, "b", 3)
			_, err := e.DB.Pool.Exec(context.Background(),
				`INSERT INTO items (id, name, price_cents, currency, on_hand) VALUES ('usd', 'usd', 1, 'USD', 9)`)
			if err != nil {
				t.Fatal(err)
			}
			before := len(e.Outbox(t, topic.Items))

			e.MustDeliver(t, reserve(t, "o1", tt.lines...))

			for _, id := range []string{"a", "b", "usd"} {
				if got := e.get(t, id).Reserved; got != 0 {
					t.Errorf("%s reserved = %d, want 0", id, got)
				}
			}
			if got := e.status(t, "o1"); got != "" {
				t.Errorf("reservation status = %q, want no row", got)
			}
			if got := len(e.Outbox(t, topic.Items)) - before; got != 0 {
				t.Errorf("%d item.updated written by a refusal, want 0", got)
			}
			assertRejected(t, e.replies(t), "o1", tt.reason, tt.detail)
		})
	}
}

// assertRejected checks that replies are one stock.rejected for order on
// stock.dlt with reason, in its data and its dead-letter headers.
func assertRejected(t *testing.T, replies []servicetest.Row, order, reason, detail string) {
	t.Helper()
	r := servicetest.CheckRejection(t, replies, topic.StockDLT, stockmsg.TypeRejected, order, reason)
	rej := servicetest.Data[stockmsg.Rejected](t, r.Message)
	if rej.OrderID != order || rej.Reason != reason || !strings.Contains(rej.Detail, detail) {
		t.Errorf("rejected = %+v, want order %s reason %s, detail naming %s", rej, order, reason, detail)
	}
}
