package handler_test

import (
	"errors"
	"testing"

	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/servicetest"

	"github.com/purchase-saga/contract/paymentmsg"
)

func TestInvalidCommandsArePoison(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.account(t, "c1", 1000)
	c := func(order, customer string, cents int64, currency string) paymentmsg.Charge {
		return paymentmsg.Charge{OrderID: order, CustomerID: customer, AmountCents: cents, Currency: currency}
	}
	tests := []struct {
		name string
		data any
		typ  string
	}{
		{"unknown type", c("o1", "c1", 1, "EUR"), "payment.steal"},
		{"undecodable data", "not an object", paymentmsg.TypeCharge},
		{"empty order id", c("", "c1", 1, "EUR"), paymentmsg.TypeCharge},
		{"order id not the saga's", c("o2", "c1", 1, "EUR"), paymentmsg.TypeCharge},
		{"empty customer", c("o1", "", 1, "EUR"), paymentmsg.TypeCharge},
		{"zero amount", c("o1", "c1", 0, "EUR"), paymentmsg.TypeCharge},
		{"negative amount", c("o1", "c1", -5, "EUR"), paymentmsg.TypeCharge},
		{"no currency", c("o1", "c1", 1, ""), paymentmsg.TypeCharge},
		{"refund without order id", paymentmsg.Refund{}, paymentmsg.TypeRefund},
		{"refund of another order", paymentmsg.Refund{OrderID: "o2"}, paymentmsg.TypeRefund},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.Deliver(servicetest.NewDelivery(t, topic.Payment, tt.typ, "o1", tt.data))
			if !errors.Is(err, consumer.ErrPoison) {
				t.Errorf("err = %v, want one wrapping consumer.ErrPoison", err)
			}
		})
	}
	if got := e.balance(t, "c1"); got != 1000 {
		t.Errorf("balance = %d, want 1000", got)
	}
	if got := e.replies(t); len(got) != 0 {
		t.Errorf("poison answered with %+v, want no reply", got)
	}
}
