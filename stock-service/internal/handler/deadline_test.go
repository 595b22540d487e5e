package handler_test

import (
	"testing"
	"time"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/contract/topic"

	"github.com/purchase-saga/contract/stockmsg"
)

func reserveBy(t *testing.T, order string, deadline time.Time, lines ...stockmsg.Line) consumer.Delivery {
	return servicetest.NewDelivery(t, topic.Stock, stockmsg.TypeReserve, order,
		stockmsg.Reserve{OrderID: order, Lines: lines, Deadline: deadline})
}

// A reserve that arrives after its saga's deadline is refused as expired
// and reserves nothing; one within it is applied; one already applied is
// answered as before whatever the clock says.
func TestReserveAfterItsDeadlineIsRefusedAsExpired(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.item(t, "a", 10)

	e.MustDeliver(t, reserveBy(t, "late", time.Now().Add(-time.Second), line("a", 2)))
	servicetest.CheckRejection(t, e.replies(t), topic.StockDLT, stockmsg.TypeRejected, "late", stockmsg.ReasonExpired)
	if it := e.get(t, "a"); it.Reserved != 0 {
		t.Errorf("an expired reserve reserved %d units", it.Reserved)
	}
	if st := e.status(t, "late"); st != "" {
		t.Errorf("an expired reserve left a %s reservation: a replay could not succeed", st)
	}

	e.MustDeliver(t, reserveBy(t, "timely", time.Now().Add(time.Minute), line("a", 3)))
	if it := e.get(t, "a"); it.Reserved != 3 {
		t.Errorf("reserved %d, want 3", it.Reserved)
	}
	// Delivered again after its deadline: still answered reserved.
	e.MustDeliver(t, reserveBy(t, "timely", time.Now().Add(-time.Minute), line("a", 3)))
	rows := e.replies(t)
	if got := rows[len(rows)-1].Message.Type; got != stockmsg.TypeReserved {
		t.Errorf("a repeated reserve past its deadline answered %s, want %s", got, stockmsg.TypeReserved)
	}
}
