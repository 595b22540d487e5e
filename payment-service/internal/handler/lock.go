package handler

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/consumer"

	"github.com/purchase-saga/payment-service/internal/payment"
	"github.com/purchase-saga/payment-service/internal/postgres"
	"github.com/purchase-saga/contract/paymentmsg"
)

// Lock takes every lock a batch of payment commands needs before any of
// them is applied (consumer.Config.Lock): the orders' locks, then the
// account rows, each in one global order, so that two batches debiting
// the same accounts queue for them instead of deadlocking. Commands it
// cannot read are left to the handler, which dead-letters them.
func (h *Handler) Lock(ctx context.Context, tx pgx.Tx, ds []consumer.Delivery) error {
	s := postgres.New(tx)
	var orders, accounts, refunds []string
	for _, d := range ds {
		switch d.Message.Type {
		case paymentmsg.TypeCharge:
			var cmd paymentmsg.Charge
			if consumer.DecodeData(d, &cmd, func() string { return cmd.OrderID }) != nil {
				continue
			}
			c := payment.Charge{OrderID: cmd.OrderID, AccountID: cmd.CustomerID, AmountCents: cmd.AmountCents, Currency: cmd.Currency}
			if c.Validate() != nil {
				continue
			}
			orders, accounts = append(orders, c.OrderID), append(accounts, c.AccountID)
		case paymentmsg.TypeRefund:
			var cmd paymentmsg.Refund
			if consumer.DecodeData(d, &cmd, func() string { return cmd.OrderID }) != nil {
				continue
			}
			orders, refunds = append(orders, cmd.OrderID), append(refunds, cmd.OrderID)
		}
	}
	return s.LockBatch(ctx, orders, accounts, refunds)
}
