package postgres

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/purchase-saga/messaging/outbox"
	msgpg "github.com/purchase-saga/messaging/postgres"

	"github.com/purchase-saga/payment-service/internal/payment"
)

// set records a command's new charge c and account a (each nil when
// unchanged), and has them written before the transaction commits.
func (b *batch) set(ctx context.Context, c *payment.Charge, a *payment.Account) {
	if c != nil {
		b.charges[c.OrderID], b.newCharges[c.OrderID] = c, true
	}
	if a != nil {
		b.accounts[a.ID], b.newBalances[a.ID] = a, true
	}
	msgpg.BeforeCommit(ctx, "payment batch", b.flush)
}

// flush writes what the batch's commands changed in one round trip: the
// final balances of the changed accounts (their rows are locked by this
// transaction since LockBatch read them), the new or changed charges and
// the batch's replies, kept by the outbox until now (outbox.QueuePending).
// An existing charge is only ever changed from charged to refunded; one
// found otherwise fails the batch rather than be overwritten.
func (b *batch) flush(ctx context.Context) error {
	q := &pgx.Batch{}
	if ids := slices.Sorted(maps.Keys(b.newBalances)); len(ids) > 0 {
		balances := make([]int64, len(ids))
		for i, id := range ids {
			balances[i] = b.accounts[id].BalanceCents
		}
		q.Queue(`UPDATE accounts SET balance_cents = v.balance, updated_at = now()
			FROM unnest($1::text[], $2::bigint[]) AS v (id, balance) WHERE accounts.id = v.id`, ids, balances).
			Exec(expect(len(ids), "accounts"))
	}
	if orders := slices.Sorted(maps.Keys(b.newCharges)); len(orders) > 0 {
		accounts, amounts, statuses := make([]string, len(orders)), make([]int64, len(orders)), make([]string, len(orders))
		for i, id := range orders {
			c := b.charges[id]
			accounts[i], amounts[i], statuses[i] = c.AccountID, c.AmountCents, string(c.Status)
		}
		q.Queue(`INSERT INTO charges (order_id, account_id, amount_cents, status)
			SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[])
			ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, updated_at = now()
			WHERE charges.status = $5 AND excluded.status = $6`,
			orders, accounts, amounts, statuses, string(payment.Charged), string(payment.Refunded)).
			Exec(expect(len(orders), "charges"))
	}
	outbox.QueuePending(ctx, q)
	if q.Len() == 0 {
		return nil
	}
	if err := b.tx.SendBatch(ctx, q).Close(); err != nil {
		return translate("write the batch's changes", err)
	}
	clear(b.newBalances)
	clear(b.newCharges)
	return nil
}

// expect checks that a statement of flush wrote its n rows of table.
func expect(n int, table string) func(pgconn.CommandTag) error {
	return func(tag pgconn.CommandTag) error {
		if got := tag.RowsAffected(); got != int64(n) {
			return fmt.Errorf("wrote %d of the batch's %d %s: the others were not as the batch read them", got, n, table)
		}
		return nil
	}
}
