package handler

import (
	"context"

	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/participant"

	"github.com/purchase-saga/stock-service/internal/postgres"
	"github.com/purchase-saga/stock-service/internal/stock"
)

// Command reads a stock.reserve: its lines merged, one per item in id
// order, the items a batch locks.
func (effect) Command(d consumer.Delivery) (participant.Command[[]stock.Line], error) {
	var cmd stockmsg.Reserve
	if err := consumer.DecodeData(d, &cmd, func() string { return cmd.OrderID }); err != nil {
		return participant.Command[[]stock.Line]{}, err
	}
	lines := make([]stock.Line, len(cmd.Lines))
	for i, l := range cmd.Lines {
		lines[i] = stock.Line{ItemID: l.ItemID, Quantity: l.Quantity}
	}
	lines, err := stock.Merge(lines)
	if err != nil {
		return participant.Command[[]stock.Line]{}, consumer.Poison(err)
	}
	return participant.Command[[]stock.Line]{
		Saga: cmd.OrderID, Deadline: cmd.Deadline, Locks: stock.ItemIDs(lines), Value: lines,
	}, nil
}

// Apply holds all of an order's lines or none.
func (e effect) Apply(ctx context.Context, s *postgres.Store, cmd participant.Command[[]stock.Line]) (stock.Reservation, *participant.Refusal, error) {
	items, err := s.LockItems(ctx, cmd.Locks)
	if err != nil {
		return stock.Reservation{}, nil, err
	}
	if reason, detail := stock.Check(cmd.Value, items, e.currency); reason != "" {
		return stock.Reservation{}, &participant.Refusal{Reason: reason, Detail: detail}, nil
	}
	if err := s.Reserve(ctx, cmd.Saga, cmd.Value); err != nil {
		return stock.Reservation{}, nil, err
	}
	return stock.Reservation{OrderID: cmd.Saga, Status: stock.Reserved, Lines: cmd.Value}, nil, nil
}

// Done answers a reservation that holds r's lines.
func (effect) Done(orderID string, r stock.Reservation) any {
	out := make([]stockmsg.Line, len(r.Lines))
	for i, l := range r.Lines {
		out[i] = stockmsg.Line{ItemID: l.ItemID, Quantity: l.Quantity}
	}
	return stockmsg.Reserved{OrderID: orderID, Lines: out}
}

// Rejected answers a refused reservation.
func (effect) Rejected(orderID string, r participant.Refusal) any {
	return stockmsg.Rejected{OrderID: orderID, Reason: r.Reason, Detail: r.Detail}
}
