package saga

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/dlt"
	"github.com/purchase-saga/messaging/envelope"
	mpostgres "github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/contract/stockmsg"
)

// ReplyTopics carry the participants' answers, which drive the sagas.
var ReplyTopics = []string{topic.StockSuccess, topic.StockDLT, topic.PaymentSuccess, topic.PaymentDLT}

// Topics are what the orchestrator consumes: the replies and the catalog.
var Topics = append(slices.Clone(ReplyTopics), topic.Items)

// Handle is the consumer handler for Topics: catalog snapshots and the
// participants' replies. A reply it cannot process is poison and goes to
// order.dlt.
func (s *Saga) Handle(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
	if d.Topic == topic.Items {
		return s.applyItem(ctx, tx, d)
	}
	reply, ok, err := toReply(d)
	if err != nil {
		return consumer.Poison(err)
	}
	if !ok {
		return nil
	}
	if _, err := uuid.Parse(d.Message.SagaID); err != nil {
		return consumer.Poison(fmt.Errorf("saga id %q is not an order id", d.Message.SagaID))
	}
	o, err := lockOrder(ctx, tx, d.Message.SagaID)
	if errors.Is(err, order.ErrNotFound) {
		return consumer.Poison(fmt.Errorf("reply for unknown order %s", d.Message.SagaID))
	}
	if err != nil {
		return err
	}
	decision := o.Apply(reply, s.now())
	if err := s.save(ctx, tx, o, decision); err != nil {
		return err
	}
	remember(ctx, o)
	return nil
}

// Lock locks the orders a batch of replies will change before any reply is
// applied (consumer.Config.Lock), in id order: one order's replies come on
// several topics, which two instances may consume, and batches that lock
// orders one by one in arrival order could deadlock.
func (s *Saga) Lock(ctx context.Context, tx pgx.Tx, ds []consumer.Delivery) error {
	var ids []string
	for _, d := range ds {
		if d.Topic == topic.Items {
			continue
		}
		if _, err := uuid.Parse(d.Message.SagaID); err == nil && len(d.Message.SagaID) == 36 {
			ids = append(ids, d.Message.SagaID)
		}
	}
	locked, err := postgres.LockOrders(ctx, tx, ids)
	if err != nil {
		return err
	}
	// The handler of each reply takes its order from here rather than
	// read it again.
	mpostgres.SetTxValue(ctx, lockedOrdersKey{}, locked)
	return nil
}

// lockedOrdersKey keys the orders Lock read in the batch's transaction.
type lockedOrdersKey struct{}

// lockOrder returns the order id locked for tx: as Lock read it for the
// batch (and as the batch's earlier replies left it), or read and locked
// now.
func lockOrder(ctx context.Context, tx pgx.Tx, id string) (order.Order, error) {
	if v, ok := mpostgres.TxValue(ctx, lockedOrdersKey{}); ok {
		if o, ok := v.(map[string]order.Order)[id]; ok {
			return o, nil
		}
	}
	return postgres.LockOrder(ctx, tx, id)
}

// remember keeps o as the batch's current state of the order, for a later
// reply of the same order in the batch.
func remember(ctx context.Context, o order.Order) {
	if v, ok := mpostgres.TxValue(ctx, lockedOrdersKey{}); ok {
		if locked := v.(map[string]order.Order); locked != nil {
			if _, ok := locked[o.ID]; ok {
				locked[o.ID] = o
			}
		}
	}
}

// toReply reads what a record says about a step. ok is false for records
// that change no step: a compensation command that was dead-lettered
// (the step stays COMPENSATING until an operator replays it).
func toReply(d consumer.Delivery) (r order.Reply, ok bool, err error) {
	m := d.Message
	switch m.Type {
	case stockmsg.TypeReserved:
		return order.Reply{Step: order.Stock, Outcome: order.Succeeded}, true, nil
	case stockmsg.TypeReleased:
		return order.Reply{Step: order.Stock, Outcome: order.Compensated}, true, nil
	case paymentmsg.TypeCharged:
		return order.Reply{Step: order.Payment, Outcome: order.Succeeded}, true, nil
	case paymentmsg.TypeRefunded:
		return order.Reply{Step: order.Payment, Outcome: order.Compensated}, true, nil
	case stockmsg.TypeRejected:
		var rej stockmsg.Rejected
		if err := m.DecodeData(&rej); err != nil {
			return r, false, err
		}
		return order.Reply{Step: order.Stock, Outcome: order.Refused, Reason: rej.Reason}, true, nil
	case paymentmsg.TypeRejected:
		var rej paymentmsg.Rejected
		if err := m.DecodeData(&rej); err != nil {
			return r, false, err
		}
		return order.Reply{Step: order.Payment, Outcome: order.Refused, Reason: rej.Reason}, true, nil
	case stockmsg.TypeReserve, paymentmsg.TypeCharge:
		// The command itself, dead-lettered for a technical reason: the
		// step failed.
		if d.Topic != topic.StockDLT && d.Topic != topic.PaymentDLT {
			return r, false, fmt.Errorf("command %s on %s", m.Type, d.Topic)
		}
		step := order.Stock
		if m.Type == paymentmsg.TypeCharge {
			step = order.Payment
		}
		return order.Reply{Step: step, Outcome: order.Refused, Reason: technicalReason(d)}, true, nil
	case stockmsg.TypeRelease, paymentmsg.TypeRefund:
		return r, false, nil
	}
	return r, false, fmt.Errorf("unexpected message type %q on %s", m.Type, d.Topic)
}

func technicalReason(d consumer.Delivery) string {
	reason := d.Headers[dlt.HeaderReason]
	if reason == "" {
		reason = dlt.ReasonError
	}
	if msg := d.Headers[dlt.HeaderError]; msg != "" {
		return reason + ": " + envelope.Truncate(msg, 200)
	}
	return reason
}

func (s *Saga) applyItem(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
	if d.Message.Type != stockmsg.TypeItemUpdated {
		return consumer.Poison(fmt.Errorf("unexpected %q on %s", d.Message.Type, d.Topic))
	}
	var it stockmsg.ItemUpdated
	if err := d.Message.DecodeData(&it); err != nil {
		return err
	}
	if it.ID == "" {
		return consumer.Poison(errors.New("item.updated without id"))
	}
	item := postgres.Item{ID: it.ID, Name: it.Name, PriceCents: it.PriceCents, Currency: it.Currency, Available: it.Available}
	if s := snapshotsOf(ctx, tx); s != nil {
		s.put(item) // stored with the batch's other snapshots before it commits
		return nil
	}
	return postgres.UpsertItem(ctx, tx, item)
}
