package saga

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
)

// routes are the consumer's handlers, one route per message type: the
// replies of the step table's participants and the catalog's snapshots,
// kept apart as their topics are, so that a reply type on the catalog's
// topic (or the reverse) is poison, not applied.
type routes struct {
	replies, catalog consumer.Handler
}

// handlers builds the routes once, from the step table the saga runs.
func (s *Saga) handlers() routes {
	s.routesOnce.Do(func() {
		s.routes = routes{
			replies: consumer.Routes(s.steps().routes(s.applyReply)...),
			catalog: consumer.Routes(consumer.Route(stockmsg.TypeItemUpdated, onTx(s.applyItem))),
		}
	})
	return s.routes
}

// stepReply is what the orchestrator reads of every answer of a step:
// the order it is about, which its envelope's saga id names too.
type stepReply struct {
	OrderID string `json:"order_id"`
}

// applyFunc applies a reply of a step to its order.
type applyFunc func(ctx context.Context, tx *postgres.Tx, d consumer.Delivery, r order.Reply) error

// routes are the routes of every step's answers: its success and its
// compensation's on its replies topic, its rejection and its command
// itself (dead-lettered for a technical reason: the step failed) on its
// rejections topic, and its compensation dead-lettered, which changes no
// step (it stays COMPENSATING until an operator replays it). A step is
// consumed by being in the table.
func (ss Steps) routes(apply applyFunc) []consumer.MessageRoute {
	var rs []consumer.MessageRoute
	for _, st := range ss {
		name := order.StepName(st.Name)
		rs = append(rs,
			consumer.Route(st.DoneType, onTx(func(ctx context.Context, tx *postgres.Tx, d consumer.Delivery, _ stepReply) error {
				return apply(ctx, tx, d, order.Reply{Step: name, Outcome: order.Succeeded})
			})),
			consumer.Route(st.UndoneType, onTx(func(ctx context.Context, tx *postgres.Tx, d consumer.Delivery, _ stepReply) error {
				return apply(ctx, tx, d, order.Reply{Step: name, Outcome: order.Compensated})
			})),
			consumer.Route(st.RejectedType, onTx(func(ctx context.Context, tx *postgres.Tx, d consumer.Delivery, _ stepReply) error {
				reason, err := st.RejectionReason(d.Message)
				if err != nil {
					return consumer.Poison(err)
				}
				return apply(ctx, tx, d, order.Reply{Step: name, Outcome: order.Refused, Reason: reason})
			})),
			consumer.Route(st.CommandType, onTx(func(ctx context.Context, tx *postgres.Tx, d consumer.Delivery, _ stepReply) error {
				if d.Topic != st.Rejections {
					return consumer.Poison(fmt.Errorf("command %s on %s", d.Message.Type, d.Topic))
				}
				return apply(ctx, tx, d, order.Reply{Step: name, Outcome: order.Refused, Reason: technicalReason(d)})
			})),
			consumer.Ignore(st.CompensationType),
		)
	}
	return rs
}

// onTx adapts fn, which works on the unit of work, to a route, which the
// consumer hands its batch's transaction: the one place where that
// transaction becomes a *postgres.Tx.
func onTx[T any](fn func(ctx context.Context, tx *postgres.Tx, d consumer.Delivery, data T) error) func(context.Context, pgx.Tx, consumer.Delivery, T) error {
	return func(ctx context.Context, tx pgx.Tx, d consumer.Delivery, data T) error {
		return fn(ctx, postgres.NewTx(tx), d, data)
	}
}
