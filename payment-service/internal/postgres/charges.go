package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/payment-service/internal/payment"
)

// Charge returns what was done for orderID; ok is false when payment has
// never acted on the order. Callers hold the
// order's lock (the participant flow takes it).
func (s *Store) Charge(ctx context.Context, orderID string) (c payment.Charge, ok bool, err error) {
	if b := s.batch(ctx); b != nil {
		return b.charge(ctx, orderID)
	}
	return readCharge(ctx, s.tx, orderID)
}

func readCharge(ctx context.Context, tx pgx.Tx, orderID string) (c payment.Charge, ok bool, err error) {
	c.OrderID = orderID
	err = tx.QueryRow(ctx, `SELECT account_id, amount_cents, status FROM charges WHERE order_id = $1`, orderID).
		Scan(&c.AccountID, &c.AmountCents, &c.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return payment.Charge{}, false, nil
	}
	if err != nil {
		return payment.Charge{}, false, translate("read charge "+orderID, err)
	}
	return c, true, nil
}

// Debit takes c's amount from its account and records the charge, if the
// account exists in c's currency and holds enough (payment.Debit). It
// reports whether it did; when not, nothing changed. An order is charged
// at most once: Debit fails when it has a charge already.
//
// Outside a batch the balance test sits in the UPDATE so that concurrent
// charges of one account, serialised by its row lock, each see the
// balance the previous one left; in a batch (LockBatch), which holds the
// account's lock, the charge changes the batch's balance and is written
// at the commit.
func (s *Store) Debit(ctx context.Context, c payment.Charge) (bool, error) {
	if b := s.batch(ctx); b != nil {
		return b.debit(ctx, c)
	}
	tag, err := s.tx.Exec(ctx, `UPDATE accounts SET balance_cents = balance_cents - $2, updated_at = now()
		WHERE id = $1 AND currency = $3 AND balance_cents >= $2`, c.AccountID, c.AmountCents, c.Currency)
	if err != nil {
		return false, translate("debit "+c.AccountID, err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	_, err = s.tx.Exec(ctx, `INSERT INTO charges (order_id, account_id, amount_cents, status) VALUES ($1, $2, $3, $4)`,
		c.OrderID, c.AccountID, c.AmountCents, payment.Charged)
	if err != nil {
		return false, translate("record charge "+c.OrderID, err)
	}
	return true, nil
}

// Refund gives c's amount back to its account and marks c Refunded; c
// must be Charged. In a batch the change is written at the commit.
func (s *Store) Refund(ctx context.Context, c payment.Charge) error {
	if b := s.batch(ctx); b != nil {
		return b.refund(ctx, c.OrderID)
	}
	tag, err := s.tx.Exec(ctx, `UPDATE accounts SET balance_cents = balance_cents + $2, updated_at = now() WHERE id = $1`,
		c.AccountID, c.AmountCents)
	if err != nil {
		return translate("refund to "+c.AccountID, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("postgres: refund of order %s: account %s is gone", c.OrderID, c.AccountID)
	}
	_, err = s.tx.Exec(ctx, `UPDATE charges SET status = $2, updated_at = now() WHERE order_id = $1`, c.OrderID, payment.Refunded)
	if err != nil {
		return translate("mark refunded "+c.OrderID, err)
	}
	return nil
}

// Tombstone records that orderID was refunded before anything was
// charged, so that a charge arriving later has no effect. In a batch the
// tombstone is written at the commit.
func (s *Store) Tombstone(ctx context.Context, orderID string) error {
	if b := s.batch(ctx); b != nil {
		return b.tombstone(ctx, orderID)
	}
	_, err := s.tx.Exec(ctx, `INSERT INTO charges (order_id, account_id, amount_cents, status) VALUES ($1, '', 0, $2)`,
		orderID, payment.Cancelled)
	if err != nil {
		return translate("insert tombstone "+orderID, err)
	}
	return nil
}
