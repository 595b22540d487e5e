package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	msgpg "github.com/purchase-saga/messaging/postgres"

	"github.com/purchase-saga/payment-service/internal/payment"
)

// batchKey keys a consumer batch's reads in its transaction.
type batchKey struct{}

// batch holds the charges of a consumer batch's orders, read once when the
// batch locks them and kept as its commands change them (nil: none yet).
type batch struct {
	charges map[string]*payment.Charge
}

func (s *Store) batch(ctx context.Context) *batch {
	v, ok := msgpg.TxValue(ctx, batchKey{})
	if !ok {
		return nil
	}
	return v.(*batch)
}

// LockBatch takes, for a consumer batch, the locks of orderIDs (in one
// global order), reads their charges, and locks in id order the accounts
// of accounts and those the refunded orders were charged to. The batch's
// commands then find the charges in memory (ctx must be the transaction's,
// see postgres.WithTxHooks).
func (s *Store) LockBatch(ctx context.Context, orderIDs, accounts, refunds []string) error {
	if err := s.LockOrders(ctx, orderIDs); err != nil {
		return err
	}
	b := &batch{charges: map[string]*payment.Charge{}}
	if len(orderIDs) > 0 {
		rows, _ := s.tx.Query(ctx, `SELECT order_id, account_id, amount_cents, status FROM charges WHERE order_id = ANY($1)`, orderIDs)
		cs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (payment.Charge, error) {
			var c payment.Charge
			err := row.Scan(&c.OrderID, &c.AccountID, &c.AmountCents, &c.Status)
			return c, err
		})
		if err != nil {
			return translate("read charges", err)
		}
		for _, id := range orderIDs {
			b.charges[id] = nil
		}
		for i := range cs {
			b.charges[cs[i].OrderID] = &cs[i]
		}
	}
	for _, id := range refunds {
		if c := b.charges[id]; c != nil && c.Status == payment.Charged {
			accounts = append(accounts, c.AccountID)
		}
	}
	if err := s.LockAccounts(ctx, accounts); err != nil {
		return err
	}
	msgpg.SetTxValue(ctx, batchKey{}, b)
	return nil
}

// charge returns what the batch knows of orderID's charge.
func (b *batch) charge(orderID string) (c payment.Charge, ok, known bool) {
	if b == nil {
		return payment.Charge{}, false, false
	}
	p, known := b.charges[orderID]
	if !known || p == nil {
		return payment.Charge{}, false, known
	}
	return *p, true, true
}

// set records orderID's charge as a command left it.
func (b *batch) set(c payment.Charge) {
	if b == nil {
		return
	}
	if _, known := b.charges[c.OrderID]; known {
		b.charges[c.OrderID] = &c
	}
}
