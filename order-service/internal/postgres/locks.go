package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/outbox"
	mpostgres "github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/order-service/internal/order"
)

// OrdersTx are the orders of one transaction: the reads of Orders, and
// the locks and writes that only a transaction can hold or make.
type OrdersTx struct {
	Orders
	tx pgx.Tx
}

// Insert stores new orders in one statement, with records (their first
// messages) in the outbox in the same round trip, and returns the ids of
// the orders it inserted: an order whose non-empty idempotency key another
// order already has (or an earlier one of this call) is left out rather
// than failing the others, and the caller, whose records may be that
// order's, rolls the transaction back.
func (r OrdersTx) Insert(ctx context.Context, os []NewOrder, records ...outbox.Record) (map[string]bool, error) {
	batch := &pgx.Batch{}
	inserted, err := queueInsert(batch, os)
	if err != nil {
		return nil, err
	}
	if err := outbox.Queue(ctx, batch, records...); err != nil {
		return nil, err
	}
	if err := r.tx.SendBatch(ctx, batch).Close(); err != nil {
		return nil, fmt.Errorf("postgres: insert %d orders: %w", len(os), err)
	}
	return inserted, nil
}

// lockedKey keys, among the values of a transaction with hooks, the
// orders it locked (Lock) as its work last left them (Save).
type lockedKey struct{}

// Lock locks the orders among ids in id order, so that transactions
// changing several orders cannot deadlock, in one round trip with the
// transaction's prelude (messaging/postgres.TakePrelude: a consumer's
// inbox claim). In a transaction with hooks the orders read are kept:
// Locked then hands them out without reading them again.
func (r OrdersTx) Lock(ctx context.Context, ids []string) error {
	q := &pgx.Batch{}
	prelude := mpostgres.TakePrelude(ctx, q)
	if len(ids) > 0 {
		q.Queue(`SELECT `+orderColumns+` FROM orders WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, ids)
	}
	if q.Len() == 0 {
		return nil
	}
	br := r.tx.SendBatch(ctx, q)
	defer br.Close()
	if err := prelude(br); err != nil {
		return err
	}
	if len(ids) == 0 {
		return br.Close()
	}
	rows, err := br.Query()
	if err != nil {
		return fmt.Errorf("postgres: lock orders: %w", err)
	}
	os, err := collect(rows)
	if err != nil {
		return fmt.Errorf("postgres: lock orders: %w", err)
	}
	locked := make(map[string]order.Order, len(os))
	for _, o := range os {
		locked[o.ID] = o
	}
	mpostgres.SetTxValue(ctx, lockedKey{}, locked)
	return nil
}

// Locked returns order id locked for the transaction: as Lock read it
// (and as Save last left it), or read and locked now; order.ErrNotFound
// when there is none.
func (r OrdersTx) Locked(ctx context.Context, id string) (order.Order, error) {
	if v, ok := mpostgres.TxValue(ctx, lockedKey{}); ok {
		if o, ok := v.(map[string]order.Order)[id]; ok {
			return o, nil
		}
	}
	return r.lock(ctx, id)
}

// lock reads order id and locks it until the transaction ends.
func (r OrdersTx) lock(ctx context.Context, id string) (order.Order, error) {
	return scanOrder(r.tx.QueryRow(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = $1 FOR UPDATE`, id))
}

// LockTimedOut locks up to limit pending orders whose deadline passed,
// skipping those another transaction holds.
func (r OrdersTx) LockTimedOut(ctx context.Context, now time.Time, limit int) ([]order.Order, error) {
	rows, err := r.tx.Query(ctx, `SELECT `+orderColumns+` FROM orders
		WHERE status = 'PENDING' AND deadline <= $1 ORDER BY deadline LIMIT $2 FOR UPDATE SKIP LOCKED`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: timed-out orders: %w", err)
	}
	return collect(rows)
}

// Change is an order's new state and what its change sends.
type Change struct {
	Order order.Order
	// Records are the messages the change sends (compensations, the
	// lifecycle event), written to the outbox with it.
	Records []outbox.Record
	// Ended says the change made the order terminal: the commit then
	// notifies EndedChannel, so that the long polls of every instance wake.
	Ended bool
	// Origin names the instance where it ended, in that notification.
	Origin string
}

// Save stores c: in a transaction with hooks (a consumer's batch, a
// sweep) the changes of all its orders go to PostgreSQL together just
// before the commit (see changes), and a later Locked of the order sees
// this state; otherwise in one round trip now.
func (r OrdersTx) Save(ctx context.Context, c Change) error {
	if ch := changesOf(ctx, r.tx); ch != nil {
		ch.add(c)
		keep(ctx, c.Order)
		return outbox.Write(ctx, r.tx, c.Records...)
	}
	ch := &changes{}
	ch.add(c)
	batch, err := ch.queue()
	if err != nil {
		return err
	}
	if err := outbox.Queue(ctx, batch, c.Records...); err != nil {
		return err
	}
	if err := r.tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("postgres: save order %s: %w", c.Order.ID, err)
	}
	return nil
}

// keep makes o the transaction's current state of an order Lock locked.
func keep(ctx context.Context, o order.Order) {
	if v, ok := mpostgres.TxValue(ctx, lockedKey{}); ok {
		if locked := v.(map[string]order.Order); locked != nil {
			if _, ok := locked[o.ID]; ok {
				locked[o.ID] = o
			}
		}
	}
}
