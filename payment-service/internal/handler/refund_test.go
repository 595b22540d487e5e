package handler_test

import (
	"testing"

	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/contract/topic"

	"github.com/purchase-saga/contract/paymentmsg"
)

func TestRefundBeforeChargeLeavesTombstone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.account(t, "c1", 1000)

	e.MustDeliver(t, refund(t, "o1"))
	if got, want := e.status(t, "o1"), "CANCELLED"; got != want {
		t.Errorf("status after early refund = %q, want %q", got, want)
	}
	replies := e.replies(t)
	if len(replies) != 1 || replies[0].Topic != topic.PaymentSuccess || replies[0].Message.Type != paymentmsg.TypeRefunded {
		t.Fatalf("replies to early refund = %+v, want one payment.refunded on payment.success", replies)
	}
	if got := servicetest.Data[paymentmsg.Refunded](t, replies[0].Message).AmountCents; got != 0 {
		t.Errorf("early refund amount = %d, want 0", got)
	}

	e.MustDeliver(t, charge(t, "o1", "c1", 300))
	if got := e.balance(t, "c1"); got != 1000 {
		t.Errorf("balance after a cancelled charge = %d, want 1000", got)
	}
	assertRejected(t, e.replies(t)[1:], "o1", paymentmsg.ReasonCancelled, "refunded")
}

func TestRefundGivesBackOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.account(t, "c1", 1000)
	e.MustDeliver(t, charge(t, "o1", "c1", 300))

	e.MustDeliver(t, refund(t, "o1"))
	e.MustDeliver(t, refund(t, "o1"))

	if got, want := e.balance(t, "c1"), int64(1000); got != want {
		t.Errorf("balance = %d, want %d", got, want)
	}
	if got, want := e.status(t, "o1"), "REFUNDED"; got != want {
		t.Errorf("status = %q, want %q", got, want)
	}
	replies := e.replies(t)
	if len(replies) != 3 {
		t.Fatalf("got %d replies, want charged, refunded, refunded", len(replies))
	}
	for _, r := range replies[1:] {
		if r.Message.Type != paymentmsg.TypeRefunded || servicetest.Data[paymentmsg.Refunded](t, r.Message).AmountCents != 300 {
			t.Errorf("reply %s %s, want payment.refunded of 300", r.Message.Type, r.Message.Data)
		}
	}

	e.MustDeliver(t, charge(t, "o1", "c1", 300))
	if got := e.balance(t, "c1"); got != 1000 {
		t.Errorf("balance after charge following refund = %d, want 1000", got)
	}
	assertRejected(t, e.replies(t)[3:], "o1", paymentmsg.ReasonCancelled, "")
}
