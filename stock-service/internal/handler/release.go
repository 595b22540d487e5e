package handler

import (
	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/messaging/participant"

	"github.com/purchase-saga/stock-service/internal/postgres"
	"github.com/purchase-saga/stock-service/internal/stock"
)

// reservations are the orders' reservations as the flow locks, reads,
// releases and tombstones them: Reserved holds the order's units,
// Released gave them back, Cancelled is the release's tombstone.
var reservations = participant.Records[*postgres.Store, stock.Reservation]{
	LockBatch: (*postgres.Store).LockBatch,
	Read:      (*postgres.Store).Reservation,
	Status:    func(r stock.Reservation) participant.Status { return statuses[r.Status] },
	Undo:      (*postgres.Store).Release,
	Tombstone: (*postgres.Store).Tombstone,
}

// statuses are the participant's statuses of a reservation's.
var statuses = map[stock.Status]participant.Status{
	stock.Reserved: participant.Done, stock.Released: participant.Undone, stock.Cancelled: participant.Tombstone,
}

// Undone answers a release.
func (effect) Undone(orderID string, _ stock.Reservation) any {
	return stockmsg.Released{OrderID: orderID}
}
