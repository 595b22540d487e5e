package handler_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/stock-service/internal/stock"
)

// A reserve whose numbers or ids are out of range is poison at once: it
// reserves nothing, is not retried and is not answered as a business no.
func TestOutOfRangeReservesArePoison(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.item(t, "a", 2*stock.MaxQuantity)
	tests := []struct {
		name  string
		lines []stockmsg.Line
	}{
		{"quantity over the cap", []stockmsg.Line{line("a", stock.MaxQuantity+1)}},
		{"quantity that wraps a price", []stockmsg.Line{line("a", 7_378_697_629_483_821)}},
		{"item id too long", []stockmsg.Line{line(strings.Repeat("a", stock.MaxIDLength+1), 1)}},
		{"NUL in item id", []stockmsg.Line{line("a\x00", 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := e.Deliver(reserve(t, "o1", tt.lines...)); !errors.Is(err, consumer.ErrPoison) {
				t.Errorf("err = %v, want one wrapping consumer.ErrPoison", err)
			}
		})
	}
	if got := e.get(t, "a").Reserved; got != 0 {
		t.Errorf("reserved = %d, want 0", got)
	}
	if got := e.replies(t); len(got) != 0 {
		t.Errorf("poison answered with %+v, want no reply", got)
	}
}
