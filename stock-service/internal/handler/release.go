package handler

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/consumer"

	"github.com/purchase-saga/stock-service/internal/postgres"
	"github.com/purchase-saga/stock-service/internal/stock"
	"github.com/purchase-saga/contract/stockmsg"
)

// release gives back an order's units. Before any reserve it leaves a
// tombstone instead; after an earlier release it does nothing. It is
// always acknowledged, so that the orchestrator's compensation ends.
func (h *Handler) release(ctx context.Context, tx pgx.Tx, s *postgres.Store, d consumer.Delivery) error {
	var cmd stockmsg.Release
	if err := consumer.DecodeData(d, &cmd, func() string { return cmd.OrderID }); err != nil {
		return err
	}
	if err := s.LockOrder(ctx, cmd.OrderID); err != nil {
		return err
	}
	r, ok, err := s.Reservation(ctx, cmd.OrderID)
	switch {
	case err != nil:
		return err
	case !ok:
		err = s.Tombstone(ctx, cmd.OrderID)
	case r.Status == stock.Reserved:
		err = s.Release(ctx, r)
	}
	if err != nil {
		return err
	}
	return succeed(ctx, tx, cmd.OrderID, stockmsg.TypeReleased, stockmsg.Released(cmd))
}
