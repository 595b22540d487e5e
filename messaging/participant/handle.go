package participant

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/consumer"
	msgpg "github.com/purchase-saga/messaging/postgres"
)

// Handle applies d, an action or a compensation, in tx. A message it can
// never apply (unknown type, undecodable or invalid data) returns an
// error wrapping consumer.ErrPoison; any other error is worth retrying.
func (p *Participant[U, C, P]) Handle(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
	switch d.Message.Type {
	case p.spec.Step.CommandType:
		return p.act(ctx, tx, d)
	case p.spec.Step.CompensationType:
		return p.compensate(ctx, tx, d)
	}
	return consumer.Poison(fmt.Errorf("unknown message type %q", d.Message.Type))
}

// act applies an action at most once. A repeated action is answered as
// the first was; one after the compensation is refused as cancelled, one
// after the deadline as expired; a refusal records nothing, so that a
// replay may succeed later.
func (p *Participant[U, C, P]) act(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
	e := p.spec.Effect
	cmd, err := e.Command(d)
	if err != nil {
		return err
	}
	if err := msgpg.LockKey(ctx, tx, cmd.Saga); err != nil {
		return err
	}
	u := p.spec.Unit(tx)
	prior, status, err := p.spec.Records.prior(ctx, u, cmd.Saga)
	switch {
	case err != nil:
		return err
	case status == Done:
		return p.reply(ctx, tx, cmd.Saga, p.spec.Step.DoneType, e.Done(cmd.Saga, prior))
	case status != None:
		return p.reject(ctx, tx, d, cmd.Saga, Refusal{Reason: ReasonCancelled, Detail: p.spec.Cancelled})
	case expired(cmd.Deadline):
		return p.reject(ctx, tx, d, cmd.Saga, Refusal{
			Reason: ReasonExpired, Detail: "the saga's deadline passed at " + cmd.Deadline.UTC().Format(time.RFC3339),
		})
	}
	done, refusal, err := e.Apply(ctx, u, cmd)
	switch {
	case err != nil:
		return err
	case refusal != nil:
		return p.reject(ctx, tx, d, cmd.Saga, *refusal)
	}
	return p.reply(ctx, tx, cmd.Saga, p.spec.Step.DoneType, e.Done(cmd.Saga, done))
}

// compensate undoes an action. Before any action it leaves a tombstone
// instead; after an earlier compensation it does nothing. It is always
// acknowledged, so that the orchestrator's compensation ends.
func (p *Participant[U, C, P]) compensate(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
	saga, err := p.spec.Compensation(d)
	if err != nil {
		return err
	}
	if err := msgpg.LockKey(ctx, tx, saga); err != nil {
		return err
	}
	r, u := p.spec.Records, p.spec.Unit(tx)
	prior, status, err := r.prior(ctx, u, saga)
	switch {
	case err != nil:
		return err
	case status == None:
		err = r.Tombstone(u, ctx, saga)
	case status == Done:
		err = r.Undo(u, ctx, prior)
	}
	if err != nil {
		return err
	}
	return p.reply(ctx, tx, saga, p.spec.Step.UndoneType, p.spec.Effect.Undone(saga, prior))
}

// expired reports whether a command's deadline (zero: none) has passed: a
// backlog must not turn into effects for sagas already given up, which
// would then have to be undone again.
func expired(deadline time.Time) bool {
	return !deadline.IsZero() && time.Now().After(deadline)
}
