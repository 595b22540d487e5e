package handler

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/consumer"

	"github.com/purchase-saga/stock-service/internal/postgres"
	"github.com/purchase-saga/stock-service/internal/stock"
	"github.com/purchase-saga/contract/stockmsg"
)

// Lock takes every lock a batch of stock commands needs before any of
// them is applied (consumer.Config.Lock): the orders' locks, then the item
// rows, each in one global order. Two batches (two workers, or two
// instances) that reserve the same items then queue for them instead of
// taking them in opposite orders and deadlocking. Commands it cannot read
// are left to the handler, which dead-letters them.
func (h *Handler) Lock(ctx context.Context, tx pgx.Tx, ds []consumer.Delivery) error {
	s := postgres.New(tx)
	var orders, items, releases []string
	for _, d := range ds {
		switch d.Message.Type {
		case stockmsg.TypeReserve:
			var cmd stockmsg.Reserve
			if consumer.DecodeData(d, &cmd, func() string { return cmd.OrderID }) != nil {
				continue
			}
			lines, err := stock.Merge(toLines(cmd.Lines))
			if err != nil {
				continue
			}
			orders = append(orders, cmd.OrderID)
			items = append(items, stock.ItemIDs(lines)...)
		case stockmsg.TypeRelease:
			var cmd stockmsg.Release
			if consumer.DecodeData(d, &cmd, func() string { return cmd.OrderID }) != nil {
				continue
			}
			orders, releases = append(orders, cmd.OrderID), append(releases, cmd.OrderID)
		}
	}
	return s.LockBatch(ctx, orders, items, releases)
}

func toLines(ls []stockmsg.Line) []stock.Line {
	lines := make([]stock.Line, len(ls))
	for i, l := range ls {
		lines[i] = stock.Line{ItemID: l.ItemID, Quantity: l.Quantity}
	}
	return lines
}
