package handler_test

import (
	"strings"
	"testing"

	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/servicetest"

	"github.com/purchase-saga/contract/paymentmsg"
)

func TestChargeTakesTheAmountAndAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.account(t, "c1", 1000)

	e.MustDeliver(t, charge(t, "o1", "c1", 300))

	if got, want := e.balance(t, "c1"), int64(700); got != want {
		t.Errorf("balance = %d, want %d", got, want)
	}
	if got, want := e.status(t, "o1"), "CHARGED"; got != want {
		t.Errorf("charge status = %q, want %q", got, want)
	}
	replies := e.replies(t)
	if len(replies) != 1 {
		t.Fatalf("got %d replies, want 1", len(replies))
	}
	r := replies[0]
	if r.Topic != topic.PaymentSuccess || r.Key != "o1" || r.Message.Type != paymentmsg.TypeCharged || r.Message.SagaID != "o1" {
		t.Errorf("reply = %s key %s type %s saga %s, want payment.success key o1 payment.charged saga o1",
			r.Topic, r.Key, r.Message.Type, r.Message.SagaID)
	}
	if got := servicetest.Data[paymentmsg.Charged](t, r.Message); got.OrderID != "o1" || got.AmountCents != 300 {
		t.Errorf("charged = %+v, want order o1 amount 300", got)
	}
}

func TestChargeRefusalsTakeNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, customer, currency string
		cents                    int64
		reason, detail           string
	}{
		{"insufficient funds", "c1", "EUR", 1001, paymentmsg.ReasonInsufficientFunds, "c1"},
		{"unknown account", "nobody", "EUR", 1, paymentmsg.ReasonUnknownAccount, "nobody"},
		{"currency mismatch", "c1", "USD", 1, paymentmsg.ReasonCurrencyMismatch, "USD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.account(t, "c1", 1000)

			e.MustDeliver(t, servicetest.NewDelivery(t, topic.Payment, paymentmsg.TypeCharge, "o1", paymentmsg.Charge{
				OrderID: "o1", CustomerID: tt.customer, AmountCents: tt.cents, Currency: tt.currency}))

			if got := e.balance(t, "c1"); got != 1000 {
				t.Errorf("balance = %d, want 1000", got)
			}
			if got := e.status(t, "o1"); got != "" {
				t.Errorf("charge status = %q, want no row", got)
			}
			assertRejected(t, e.replies(t), "o1", tt.reason, tt.detail)
		})
	}
}

// assertRejected checks that replies are one payment.rejected for order
// on payment.dlt with reason, in its data and its dead-letter headers.
func assertRejected(t *testing.T, replies []servicetest.Row, order, reason, detail string) {
	t.Helper()
	r := servicetest.CheckRejection(t, replies, topic.PaymentDLT, paymentmsg.TypeRejected, order, reason)
	rej := servicetest.Data[paymentmsg.Rejected](t, r.Message)
	if rej.OrderID != order || rej.Reason != reason || !strings.Contains(rej.Detail, detail) {
		t.Errorf("rejected = %+v, want order %s reason %s, detail naming %s", rej, order, reason, detail)
	}
}
