package handler_test

import (
	"errors"
	"testing"

	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/servicetest"

	"github.com/purchase-saga/contract/stockmsg"
)

func TestInvalidCommandsArePoison(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.item(t, "a", 5)
	tests := []struct {
		name string
		d    consumer.Delivery
	}{
		{"unknown type", servicetest.NewDelivery(t, topic.Stock, "stock.steal", "o1", stockmsg.Reserve{OrderID: "o1"})},
		{"undecodable data", servicetest.NewDelivery(t, topic.Stock, stockmsg.TypeReserve, "o1", "not an object")},
		{"empty order id", servicetest.NewDelivery(t, topic.Stock, stockmsg.TypeReserve, "o1", stockmsg.Reserve{Lines: []stockmsg.Line{line("a", 1)}})},
		{"order id not the saga's", servicetest.NewDelivery(t, topic.Stock, stockmsg.TypeReserve, "o1",
			stockmsg.Reserve{OrderID: "o2", Lines: []stockmsg.Line{line("a", 1)}})},
		{"no lines", reserve(t, "o1")},
		{"zero quantity", reserve(t, "o1", line("a", 1), line("a", 0))},
		{"negative quantity", reserve(t, "o1", line("a", -1))},
		{"empty item id", reserve(t, "o1", line("", 1))},
		{"release without order id", servicetest.NewDelivery(t, topic.StockCompensation, stockmsg.TypeRelease, "o1", stockmsg.Release{})},
		{"release of another order", servicetest.NewDelivery(t, topic.StockCompensation, stockmsg.TypeRelease, "o1", stockmsg.Release{OrderID: "o2"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.Deliver(tt.d)
			if !errors.Is(err, consumer.ErrPoison) {
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
