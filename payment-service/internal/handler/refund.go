package handler

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/participant"

	"github.com/purchase-saga/payment-service/internal/payment"
	"github.com/purchase-saga/payment-service/internal/postgres"
)

// Compensation reads a payment.refund.
func (effect) Compensation(d consumer.Delivery) (string, error) {
	var cmd paymentmsg.Refund
	err := consumer.DecodeData(d, &cmd, func() string { return cmd.OrderID })
	return cmd.OrderID, err
}

// LockBatch locks a batch's orders and accounts and reads its charges
// (postgres.Store.LockBatch).
func (effect) LockBatch(ctx context.Context, tx pgx.Tx, orderIDs, accounts, refunded []string) error {
	return postgres.New(tx).LockBatch(ctx, orderIDs, accounts, refunded)
}

// Prior returns the order's charge: Charged took its amount, Refunded
// gave it back, Cancelled is the refund's tombstone.
func (effect) Prior(ctx context.Context, tx pgx.Tx, orderID string) (payment.Charge, participant.Status, error) {
	c, ok, err := postgres.New(tx).Charge(ctx, orderID)
	if err != nil || !ok {
		return c, participant.None, err
	}
	return c, statuses[c.Status], nil
}

// statuses are the participant's statuses of a charge's.
var statuses = map[payment.Status]participant.Status{
	payment.Charged: participant.Done, payment.Refunded: participant.Undone, payment.Cancelled: participant.Tombstone,
}

// Undo gives c's amount back.
func (effect) Undo(ctx context.Context, tx pgx.Tx, c payment.Charge) error {
	return postgres.New(tx).Refund(ctx, c)
}

// Tombstone records a refund that came before any charge.
func (effect) Tombstone(ctx context.Context, tx pgx.Tx, orderID string) error {
	return postgres.New(tx).Tombstone(ctx, orderID)
}

// Undone answers a refund with the amount given back (0 for a tombstone).
func (effect) Undone(orderID string, c payment.Charge) any {
	return paymentmsg.Refunded{OrderID: orderID, AmountCents: c.AmountCents}
}
