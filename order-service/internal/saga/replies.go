package saga

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/dlt"
	"github.com/purchase-saga/messaging/envelope"
	mpostgres "github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
)

// ReplyTopics carry the answers of the default steps' participants
// (DefaultSteps), which drive the sagas; a Saga built with other steps
// consumes its ReplyTopics.
var ReplyTopics = defaultSteps.ReplyTopics()

// Topics are what an orchestrator of the default steps consumes: the
// replies and the catalog.
var Topics = append(slices.Clone(ReplyTopics), topic.Items)

// ReplyTopics are the topics the participants of s's steps answer on.
func (s *Saga) ReplyTopics() []string { return s.steps().ReplyTopics() }

// Handle is the consumer handler for Topics: catalog snapshots and the
// participants' replies. A reply it cannot process is poison and goes to
// order.dlt.
func (s *Saga) Handle(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
	if d.Topic == topic.Items {
		return s.applyItem(ctx, tx, d)
	}
	reply, ok, err := s.steps().toReply(d)
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
	decision, err := o.Apply(reply, s.now())
	if err != nil {
		// A step this order was not placed with.
		return consumer.Poison(err)
	}
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

// toReply reads what a record says about a step, through the step table.
// ok is false for records that change no step: a compensation command
// that was dead-lettered (the step stays COMPENSATING until an operator
// replays it).
func (ss Steps) toReply(d consumer.Delivery) (r order.Reply, ok bool, err error) {
	m := d.Message
	for _, st := range ss {
		name := order.StepName(st.Name)
		switch m.Type {
		case st.DoneType:
			return order.Reply{Step: name, Outcome: order.Succeeded}, true, nil
		case st.UndoneType:
			return order.Reply{Step: name, Outcome: order.Compensated}, true, nil
		case st.RejectedType:
			reason, err := st.RejectionReason(m)
			if err != nil {
				return r, false, err
			}
			return order.Reply{Step: name, Outcome: order.Refused, Reason: reason}, true, nil
		case st.CommandType:
			// The command itself, dead-lettered for a technical reason:
			// the step failed.
			if d.Topic != st.Rejections {
				return r, false, fmt.Errorf("command %s on %s", m.Type, d.Topic)
			}
			return order.Reply{Step: name, Outcome: order.Refused, Reason: technicalReason(d)}, true, nil
		case st.CompensationType:
			return r, false, nil
		}
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
