package saga_test

import (
	"errors"
	"testing"
	"time"

	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/order-service/internal/order"
)

// The routes the step table builds: a compensation dead-lettered is
// accepted and changes nothing; a type no step names, data that does not
// decode, a command on a replies topic and a catalog type on a replies
// topic (or a reply on the catalog's) are poison, and change nothing.
func TestRoutesOfTheStepTable(t *testing.T) {
	s, _ := newSaga(t, time.Minute)
	o := placeBook(t, s)
	for _, tc := range []struct {
		name, topic, typ string
		data             any
		poison           bool
	}{
		{"a compensation dead-lettered", topic.StockDLT, stockmsg.TypeRelease, stockmsg.Release{OrderID: o.ID}, false},
		{"a type no step names", topic.StockSuccess, "stock.exploded", map[string]string{}, true},
		{"data that does not decode", topic.StockSuccess, stockmsg.TypeReserved, []int{1}, true},
		{"a rejection whose data does not decode", topic.PaymentDLT, paymentmsg.TypeRejected, map[string]int{"reason": 1}, true},
		{"a command on a replies topic", topic.StockSuccess, stockmsg.TypeReserve, stockmsg.Reserve{OrderID: o.ID}, true},
		{"a catalog snapshot on a replies topic", topic.StockSuccess, stockmsg.TypeItemUpdated, stockmsg.ItemUpdated{ID: "pen"}, true},
		{"a reply on the catalog's topic", topic.Items, stockmsg.TypeReserved, stockmsg.Reserved{OrderID: o.ID}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := reply(t, s, tc.topic, tc.typ, o.ID, tc.data)
			if got := errors.Is(err, consumer.ErrPoison); got != tc.poison || (!tc.poison && err != nil) {
				t.Errorf("error %v, want poison %v", err, tc.poison)
			}
			if got, statuses := steps(t, s, o.ID); got.Status != order.Pending ||
				statuses["stock"] != order.StepPending || statuses["payment"] != order.StepPending {
				t.Errorf("order %s with steps %v, want it unchanged", got.Status, statuses)
			}
		})
	}
}
