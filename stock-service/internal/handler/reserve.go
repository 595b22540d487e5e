package handler

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/consumer"

	"github.com/purchase-saga/stock-service/internal/postgres"
	"github.com/purchase-saga/stock-service/internal/stock"
	"github.com/purchase-saga/contract/stockmsg"
)

// expired reports whether a command's deadline (zero: none) has passed: a
// backlog must not turn into reservations for sagas already given up,
// which would then have to be released again.
func expired(deadline time.Time) bool {
	return !deadline.IsZero() && time.Now().After(deadline)
}

// reserve holds all of an order's lines or none. A repeated reserve is
// answered as the first was; one after the release is refused as
// cancelled; a refusal records nothing, so a replay may succeed later.
func (h *Handler) reserve(ctx context.Context, tx pgx.Tx, s *postgres.Store, d consumer.Delivery) error {
	var cmd stockmsg.Reserve
	if err := consumer.DecodeData(d, &cmd, func() string { return cmd.OrderID }); err != nil {
		return err
	}
	lines, err := stock.Merge(toLines(cmd.Lines))
	if err != nil {
		return consumer.Poison(err)
	}
	if err := s.LockOrder(ctx, cmd.OrderID); err != nil {
		return err
	}
	r, ok, err := s.Reservation(ctx, cmd.OrderID)
	switch {
	case err != nil:
		return err
	case ok && r.Status == stock.Reserved:
		return reserved(ctx, tx, cmd.OrderID, r.Lines)
	case ok:
		return h.reject(ctx, tx, d, cmd.OrderID, stock.Refusal{
			Reason: stock.ReasonCancelled, Detail: "the order's stock was released before it was reserved",
		})
	case expired(cmd.Deadline):
		return h.reject(ctx, tx, d, cmd.OrderID, stock.Refusal{
			Reason: stock.ReasonExpired, Detail: "the saga's deadline passed at " + cmd.Deadline.UTC().Format(time.RFC3339),
		})
	}
	items, err := s.LockItems(ctx, stock.ItemIDs(lines))
	if err != nil {
		return err
	}
	if refusal := stock.Check(lines, items, h.currency); refusal != nil {
		return h.reject(ctx, tx, d, cmd.OrderID, *refusal)
	}
	if err := s.Reserve(ctx, cmd.OrderID, lines); err != nil {
		return err
	}
	return reserved(ctx, tx, cmd.OrderID, lines)
}
