package postgres

import (
	"context"
	"fmt"
	"math"

	"github.com/purchase-saga/payment-service/internal/payment"
)

// debit is Debit in a batch: the rule is payment.Debit's, applied to the
// balance as the batch's earlier commands left it.
func (b *batch) debit(ctx context.Context, c payment.Charge) (bool, error) {
	if err := b.noCharge(ctx, c.OrderID, "record charge"); err != nil {
		return false, err
	}
	acct, found, err := b.account(ctx, c.AccountID)
	if err != nil {
		return false, err
	}
	after, ok := payment.Debit(c, acct, found)
	if !ok {
		return false, nil
	}
	c.Currency, c.Status = "", payment.Charged // as the charges table keeps it
	b.set(ctx, &c, &after)
	return true, nil
}

// refund is Refund in a batch, of the charge the batch holds for orderID.
func (b *batch) refund(ctx context.Context, orderID string) error {
	c, ok, err := b.charge(ctx, orderID)
	if err != nil {
		return err
	}
	if !ok || c.Status != payment.Charged {
		return fmt.Errorf("postgres: refund of order %s: the order is not charged", orderID)
	}
	acct, found, err := b.account(ctx, c.AccountID)
	switch {
	case err != nil:
		return err
	case !found:
		return fmt.Errorf("postgres: refund of order %s: account %s is gone", orderID, c.AccountID)
	case acct.BalanceCents > math.MaxInt64-c.AmountCents:
		return outOfRange("refund to " + acct.ID)
	}
	acct.BalanceCents += c.AmountCents
	c.Status = payment.Refunded
	b.set(ctx, &c, &acct)
	return nil
}

// tombstone is Tombstone in a batch.
func (b *batch) tombstone(ctx context.Context, orderID string) error {
	if err := b.noCharge(ctx, orderID, "insert tombstone"); err != nil {
		return err
	}
	b.set(ctx, &payment.Charge{OrderID: orderID, Status: payment.Cancelled}, nil)
	return nil
}

// noCharge fails op on orderID when the order has a charge already: an
// order has at most one, as the table's primary key would insist.
func (b *batch) noCharge(ctx context.Context, orderID, op string) error {
	c, ok, err := b.charge(ctx, orderID)
	if err != nil {
		return err
	}
	if ok {
		return fmt.Errorf("postgres: %s %s: the order is %s already", op, orderID, c.Status)
	}
	return nil
}
