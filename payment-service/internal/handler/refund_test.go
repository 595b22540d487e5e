package handler_test

import (
	"testing"

	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/messaging/servicetest"
)

// A refund is acknowledged with the amount it gave back: none for a
// refund before any charge, the charge's for a refund after it, every
// time it is delivered.
func TestRefundAnswersTheAmountGivenBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.account(t, "c1", 1000)
	e.MustDeliver(t, refund(t, "early"))
	e.MustDeliver(t, charge(t, "o1", "c1", 300))
	e.MustDeliver(t, refund(t, "o1"))
	e.MustDeliver(t, refund(t, "o1"))

	replies := e.replies(t)
	if len(replies) != 4 {
		t.Fatalf("got %d replies, want refunded, charged, refunded, refunded", len(replies))
	}
	for i, want := range map[int]int64{0: 0, 2: 300, 3: 300} {
		r := replies[i]
		if got := servicetest.Data[paymentmsg.Refunded](t, r.Message).AmountCents; r.Message.Type != paymentmsg.TypeRefunded || got != want {
			t.Errorf("reply %d: %s of %d, want payment.refunded of %d", i, r.Message.Type, got, want)
		}
	}
	if got, want := e.balance(t, "c1"), int64(1000); got != want {
		t.Errorf("balance = %d, want %d", got, want)
	}
}
