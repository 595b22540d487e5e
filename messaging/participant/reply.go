package participant

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/outbox"
)

// reply writes an answer of type typ to the step's Replies topic.
func (p *Participant[U, C, P]) reply(ctx context.Context, tx pgx.Tx, saga, typ string, data any) error {
	return outbox.Send(ctx, tx, p.spec.Step.Replies, typ, saga, data)
}

// reject writes the refusal of d to the step's Rejections topic, where the
// orchestrator reads a step's failures, with dlt-reason rejected.
func (p *Participant[U, C, P]) reject(ctx context.Context, tx pgx.Tx, d consumer.Delivery, saga string, r Refusal) error {
	m, err := envelope.New(p.spec.Step.RejectedType, saga, p.spec.Effect.Rejected(saga, r))
	if err != nil {
		return err
	}
	consumer.Logger(ctx).DebugContext(ctx, "message rejected", "type", d.Message.Type, "message_id", d.Message.ID.String(),
		"reason", r.Reason, "reply_topic", p.spec.Step.Rejections)
	return outbox.Write(ctx, tx, consumer.Rejection(d, p.spec.Step.Rejections, p.spec.Service, r.Reason, m))
}
