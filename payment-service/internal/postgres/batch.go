package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	msgpg "github.com/purchase-saga/messaging/postgres"

	"github.com/purchase-saga/payment-service/internal/payment"
)

// batchKey keys a consumer batch's state in its transaction.
type batchKey struct{}

// batch is what a consumer batch's commands read and change: the charges
// of its orders and its accounts, read once when LockBatch locks them,
// then changed in memory by the same rules as the direct statements, and
// written in one round trip just before the commit (see flush). The rows
// stay locked by the batch's transaction from that read to the commit, so
// nobody else changes them meanwhile and their final values may be
// written as they are.
type batch struct {
	tx pgx.Tx
	// charges maps an order to its charge, nil when payment never acted
	// on it.
	charges map[string]*payment.Charge
	// accounts maps an id to its locked account, nil when there is none.
	accounts map[string]*payment.Account
	// newCharges and newBalances name what flush must write.
	newCharges, newBalances map[string]bool
}

// batch returns the state of the consumer batch ctx's transaction works
// on, nil outside one.
func (s *Store) batch(ctx context.Context) *batch {
	v, ok := msgpg.TxValue(ctx, batchKey{})
	if !ok {
		return nil
	}
	return v.(*batch)
}

// LockBatch takes, for a consumer batch, the locks of orderIDs (in one
// global order), reads their charges, and locks and reads in id order the
// accounts of accounts and those the refunded orders were charged to. The
// batch's commands then read and change these in memory, and what they
// changed is written just before the commit: ctx must be the
// transaction's (see postgres.WithTxHooks), or the store goes on with
// direct statements.
//
// The three statements go in one round trip (a pgx.Batch, whose
// statements run in order): the orders' advisory locks, then the charges,
// then the accounts, locked in id order, so the locks are still taken in
// one global order: the orders', then the accounts' rows. The accounts of
// the refunded orders are found by the accounts statement itself, from
// the charges the orders' locks keep as the previous statement read them.
func (s *Store) LockBatch(ctx context.Context, orderIDs, accounts, refunds []string) error {
	if s.batch(ctx) != nil {
		return errors.New("postgres: lock batch: the transaction holds a batch already")
	}
	b := &batch{tx: s.tx, charges: map[string]*payment.Charge{}, accounts: map[string]*payment.Account{},
		newCharges: map[string]bool{}, newBalances: map[string]bool{}}
	q := &pgx.Batch{}
	// The consumer's inbox claim first, in this round trip; then the
	// orders' locks, which the hooks learn once the statement ran, so
	// that LockOrder takes them for free.
	lr := lockReads{prelude: msgpg.TakePrelude(ctx, q), locked: msgpg.QueueLockKeys(ctx, q, orderIDs)}
	if len(orderIDs) > 0 {
		q.Queue(chargesSQL, orderIDs)
	}
	refunded := refundedOf(orderIDs, refunds)
	switch {
	case len(refunded) > 0:
		q.Queue(accountsAndRefundedSQL, accounts, refunded, string(payment.Charged))
		lr.accounts = true
	case len(accounts) > 0:
		q.Queue(accountsSQL, accounts)
		lr.accounts = true
	}
	if q.Len() > 0 {
		if err := b.lockRead(ctx, q, lr, orderIDs, accounts, refunds); err != nil {
			return err
		}
	}
	msgpg.SetTxValue(ctx, batchKey{}, b)
	return nil
}

// lockReads reads the results of LockBatch's statements that are not its
// own reads: the transaction's prelude and the orders' locks; accounts
// says whether an accounts statement follows the charges.
type lockReads struct {
	prelude, locked func(pgx.BatchResults) error
	accounts        bool
}

// lockRead sends q, queued by LockBatch: first the prelude and the orders'
// locks, then the charges of orderIDs (when there are any), then, when
// lr.accounts, the accounts of accounts and of the charged orders among
// refunds; it records what it read.
func (b *batch) lockRead(ctx context.Context, q *pgx.Batch, lr lockReads, orderIDs, accounts, refunds []string) (err error) {
	br := b.tx.SendBatch(ctx, q)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("postgres: lock batch: %w", cerr)
		}
	}()
	if err := lr.prelude(br); err != nil {
		return err
	}
	if err := lr.locked(br); err != nil {
		return err
	}
	if len(orderIDs) > 0 {
		rows, _ := br.Query()
		if err := b.collectCharges(rows, orderIDs); err != nil {
			return err
		}
	}
	if !lr.accounts {
		return nil
	}
	for _, id := range refunds {
		if c := b.charges[id]; c != nil && c.Status == payment.Charged {
			accounts = append(accounts, c.AccountID)
		}
	}
	rows, _ := br.Query()
	return b.collectAccounts(rows, accounts)
}

// refundedOf returns the orders of refunds that are among orderIDs: those
// whose charges LockBatch reads, and so whose accounts it locks.
func refundedOf(orderIDs, refunds []string) []string {
	if len(refunds) == 0 {
		return nil
	}
	read := make(map[string]bool, len(orderIDs))
	for _, id := range orderIDs {
		read[id] = true
	}
	var out []string
	for _, id := range refunds {
		if read[id] {
			out = append(out, id)
		}
	}
	return out
}

const (
	chargesSQL  = `SELECT order_id, account_id, amount_cents, status FROM charges WHERE order_id = ANY($1)`
	accountsSQL = `SELECT id, balance_cents, currency FROM accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE`
	// accountsAndRefundedSQL is accountsSQL for the accounts of $1 and
	// those the orders of $2 are charged ($3) to.
	accountsAndRefundedSQL = `SELECT id, balance_cents, currency FROM accounts
		WHERE id = ANY($1) OR id IN (SELECT account_id FROM charges WHERE order_id = ANY($2) AND status = $3)
		ORDER BY id FOR UPDATE`
)

// collectCharges records the charges of orderIDs that rows (chargesSQL)
// holds.
func (b *batch) collectCharges(rows pgx.Rows, orderIDs []string) error {
	err := msgpg.CollectByKey(rows, func(row pgx.CollectableRow) (payment.Charge, error) {
		var c payment.Charge
		err := row.Scan(&c.OrderID, &c.AccountID, &c.AmountCents, &c.Status)
		return c, err
	}, func(c *payment.Charge) string { return c.OrderID }, orderIDs, b.charges)
	if err != nil {
		return translate("read charges", err)
	}
	return nil
}

// lockAccounts locks the existing accounts among ids in id order, so that
// transactions debiting several accounts cannot deadlock, and records
// them.
func (b *batch) lockAccounts(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	rows, _ := b.tx.Query(ctx, accountsSQL, ids)
	return b.collectAccounts(rows, ids)
}

// collectAccounts records the accounts of ids that rows (accountsSQL)
// holds.
func (b *batch) collectAccounts(rows pgx.Rows, ids []string) error {
	err := msgpg.CollectByKey(rows, func(row pgx.CollectableRow) (payment.Account, error) {
		var a payment.Account
		err := row.Scan(&a.ID, &a.BalanceCents, &a.Currency)
		return a, err
	}, func(a *payment.Account) string { return a.ID }, ids, b.accounts)
	if err != nil {
		return translate("lock accounts", err)
	}
	return nil
}

// charge returns orderID's charge as the batch's commands left it; an
// order LockBatch was not given is read (its caller holds LockOrder).
func (b *batch) charge(ctx context.Context, orderID string) (payment.Charge, bool, error) {
	c, known := b.charges[orderID]
	if !known {
		read, ok, err := readCharge(ctx, b.tx, orderID)
		if err != nil {
			return payment.Charge{}, false, err
		}
		if ok {
			c = &read
		}
		b.charges[orderID] = c
	}
	if c == nil {
		return payment.Charge{}, false, nil
	}
	return *c, true, nil
}

// account returns account id as the batch's commands left it; one that
// LockBatch was not given is locked now.
func (b *batch) account(ctx context.Context, id string) (payment.Account, bool, error) {
	if _, known := b.accounts[id]; !known {
		if err := b.lockAccounts(ctx, []string{id}); err != nil {
			return payment.Account{}, false, err
		}
	}
	if a := b.accounts[id]; a != nil {
		return *a, true, nil
	}
	return payment.Account{}, false, nil
}
