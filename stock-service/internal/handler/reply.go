package handler

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/outbox"
	"github.com/purchase-saga/contract/topic"

	"github.com/purchase-saga/stock-service/internal/stock"
	"github.com/purchase-saga/contract/stockmsg"
)

// succeed writes a success reply of type typ to stock.success.
func succeed(ctx context.Context, tx pgx.Tx, orderID, typ string, data any) error {
	return outbox.Send(ctx, tx, topic.StockSuccess, typ, orderID, data)
}

// reserved answers a reservation that holds lines.
func reserved(ctx context.Context, tx pgx.Tx, orderID string, lines []stock.Line) error {
	out := make([]stockmsg.Line, len(lines))
	for i, l := range lines {
		out[i] = stockmsg.Line{ItemID: l.ItemID, Quantity: l.Quantity}
	}
	return succeed(ctx, tx, orderID, stockmsg.TypeReserved, stockmsg.Reserved{OrderID: orderID, Lines: out})
}

// reject writes a stock.rejected reply for d to stock.dlt, where the
// orchestrator reads a step's failures, with dlt-reason rejected.
func (h *Handler) reject(ctx context.Context, tx pgx.Tx, d consumer.Delivery, orderID string, r stock.Refusal) error {
	m, err := envelope.New(stockmsg.TypeRejected, orderID, stockmsg.Rejected{
		OrderID: orderID, Reason: string(r.Reason), Detail: r.Detail,
	})
	if err != nil {
		return err
	}
	return outbox.Write(ctx, tx, consumer.Rejection(d, topic.StockDLT, h.service, string(r.Reason), m))
}
