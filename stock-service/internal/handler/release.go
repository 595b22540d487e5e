package handler

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/participant"

	"github.com/purchase-saga/stock-service/internal/postgres"
	"github.com/purchase-saga/stock-service/internal/stock"
)

// Compensation reads a stock.release.
func (effect) Compensation(d consumer.Delivery) (string, error) {
	var cmd stockmsg.Release
	err := consumer.DecodeData(d, &cmd, func() string { return cmd.OrderID })
	return cmd.OrderID, err
}

// Prior returns the order's reservation: Reserved holds its units,
// Released gave them back, Cancelled is the release's tombstone.
func (effect) Prior(ctx context.Context, tx pgx.Tx, orderID string) (stock.Reservation, participant.Status, error) {
	r, ok, err := postgres.New(tx).Reservation(ctx, orderID)
	if err != nil || !ok {
		return r, participant.None, err
	}
	return r, statuses[r.Status], nil
}

// statuses are the participant's statuses of a reservation's.
var statuses = map[stock.Status]participant.Status{
	stock.Reserved: participant.Done, stock.Released: participant.Undone, stock.Cancelled: participant.Tombstone,
}

// Undo gives r's units back.
func (effect) Undo(ctx context.Context, tx pgx.Tx, r stock.Reservation) error {
	return postgres.New(tx).Release(ctx, r)
}

// Tombstone records a release that came before any reserve.
func (effect) Tombstone(ctx context.Context, tx pgx.Tx, orderID string) error {
	return postgres.New(tx).Tombstone(ctx, orderID)
}

// LockBatch locks a batch's orders and items and reads its reservations
// (postgres.Store.LockBatch).
func (effect) LockBatch(ctx context.Context, tx pgx.Tx, orderIDs, items, released []string) error {
	return postgres.New(tx).LockBatch(ctx, orderIDs, items, released)
}

// Undone answers a release.
func (effect) Undone(orderID string, _ stock.Reservation) any {
	return stockmsg.Released{OrderID: orderID}
}
