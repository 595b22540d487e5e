package handler

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/consumer"

	"github.com/purchase-saga/payment-service/internal/payment"
	"github.com/purchase-saga/payment-service/internal/postgres"
	"github.com/purchase-saga/contract/paymentmsg"
)

// refund gives back what an order was charged. Before any charge it
// leaves a tombstone instead; after an earlier refund it does nothing. It
// is always acknowledged, with the amount given back (0 for a tombstone),
// so that the orchestrator's compensation ends.
func (h *Handler) refund(ctx context.Context, tx pgx.Tx, s *postgres.Store, d consumer.Delivery) error {
	var cmd paymentmsg.Refund
	if err := consumer.DecodeData(d, &cmd, func() string { return cmd.OrderID }); err != nil {
		return err
	}
	if err := s.LockOrder(ctx, cmd.OrderID); err != nil {
		return err
	}
	c, ok, err := s.Charge(ctx, cmd.OrderID)
	switch {
	case err != nil:
		return err
	case !ok:
		err = s.Tombstone(ctx, cmd.OrderID)
	case c.Status == payment.Charged:
		err = s.Refund(ctx, c)
	}
	if err != nil {
		return err
	}
	return succeed(ctx, tx, cmd.OrderID, paymentmsg.TypeRefunded,
		paymentmsg.Refunded{OrderID: cmd.OrderID, AmountCents: c.AmountCents})
}
