package handler_test

import (
	"testing"
	"time"

	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/contract/topic"

	"github.com/purchase-saga/contract/paymentmsg"
)

// A charge that arrives after its saga's deadline is refused as expired
// and takes nothing; one within it is applied.
func TestChargeAfterItsDeadlineIsRefusedAsExpired(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.account(t, "c1", 1000)
	charge := func(order string, deadline time.Time) {
		e.MustDeliver(t, servicetest.NewDelivery(t, topic.Payment, paymentmsg.TypeCharge, order,
			paymentmsg.Charge{OrderID: order, CustomerID: "c1", AmountCents: 300, Currency: "EUR", Deadline: deadline}))
	}
	charge("late", time.Now().Add(-time.Second))
	servicetest.CheckRejection(t, e.replies(t), topic.PaymentDLT, paymentmsg.TypeRejected, "late", paymentmsg.ReasonExpired)
	if got := e.balance(t, "c1"); got != 1000 {
		t.Errorf("balance %d after an expired charge, want 1000", got)
	}
	if st := e.status(t, "late"); st != "" {
		t.Errorf("an expired charge left a %s record: a replay could not succeed", st)
	}
	charge("timely", time.Now().Add(time.Minute))
	if got := e.balance(t, "c1"); got != 700 {
		t.Errorf("balance %d, want 700", got)
	}
}
