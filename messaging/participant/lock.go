package participant

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/consumer"
)

// Lock takes every lock a batch needs before any of its messages is
// applied (consumer.Config.Lock), through Records.LockBatch: the sagas'
// locks, then the rows, each in one global order, so that two batches
// (two workers, or two instances) over the same rows queue for them
// instead of taking them in opposite orders and deadlocking. Messages it
// cannot read are left to Handle, which dead-letters them.
func (p *Participant[U, C, P]) Lock(ctx context.Context, tx pgx.Tx, ds []consumer.Delivery) error {
	var sagas, locks, compensated []string
	for _, d := range ds {
		switch d.Message.Type {
		case p.spec.Step.CommandType:
			cmd, err := p.spec.Effect.Command(d)
			if err != nil {
				continue
			}
			sagas, locks = append(sagas, cmd.Saga), append(locks, cmd.Locks...)
		case p.spec.Step.CompensationType:
			saga, err := p.spec.Compensation(d)
			if err != nil {
				continue
			}
			sagas, compensated = append(sagas, saga), append(compensated, saga)
		}
	}
	return p.spec.Records.LockBatch(p.spec.Unit(tx), ctx, sagas, locks, compensated)
}
