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
// participants' replies, each type through its route (see routes). A
// message it cannot process is poison and goes to order.dlt.
func (s *Saga) Handle(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
	r := s.handlers()
	if d.Topic == topic.Items {
		return r.catalog(ctx, tx, d)
	}
	return r.replies(ctx, tx, d)
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
	// The handler of each reply then takes its order from the unit of
	// work rather than read it again.
	return postgres.NewTx(tx).Orders.Lock(ctx, ids)
}

// applyReply applies what a record says about a step to its order.
func (s *Saga) applyReply(ctx context.Context, tx *postgres.Tx, d consumer.Delivery, reply order.Reply) error {
	if _, err := uuid.Parse(d.Message.SagaID); err != nil {
		return consumer.Poison(fmt.Errorf("saga id %q is not an order id", d.Message.SagaID))
	}
	o, err := tx.Orders.Locked(ctx, d.Message.SagaID)
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
	countDone(ctx, reply, decision)
	return s.save(ctx, tx, o, decision)
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

// applyItem stores a catalog snapshot.
func (s *Saga) applyItem(ctx context.Context, tx *postgres.Tx, _ consumer.Delivery, it stockmsg.ItemUpdated) error {
	if it.ID == "" {
		return consumer.Poison(errors.New("item.updated without id"))
	}
	return tx.Catalog.Put(ctx, postgres.Item{ID: it.ID, Name: it.Name, PriceCents: it.PriceCents, Currency: it.Currency, Available: it.Available})
}
