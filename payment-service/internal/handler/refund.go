package handler

import (
	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/messaging/participant"

	"github.com/purchase-saga/payment-service/internal/payment"
	"github.com/purchase-saga/payment-service/internal/postgres"
)

// charges are the orders' charges as the flow locks, reads, refunds and
// tombstones them: Charged took the order's amount, Refunded gave it
// back, Cancelled is the refund's tombstone. A batch locks the orders'
// accounts with them.
var charges = participant.Records[*postgres.Store, payment.Charge]{
	LockBatch: (*postgres.Store).LockBatch,
	Read:      (*postgres.Store).Charge,
	Status:    func(c payment.Charge) participant.Status { return statuses[c.Status] },
	Undo:      (*postgres.Store).Refund,
	Tombstone: (*postgres.Store).Tombstone,
}

// statuses are the participant's statuses of a charge's.
var statuses = map[payment.Status]participant.Status{
	payment.Charged: participant.Done, payment.Refunded: participant.Undone, payment.Cancelled: participant.Tombstone,
}

// Undone answers a refund with the amount given back (0 for a tombstone).
func (effect) Undone(orderID string, c payment.Charge) any {
	return paymentmsg.Refunded{OrderID: orderID, AmountCents: c.AmountCents}
}
