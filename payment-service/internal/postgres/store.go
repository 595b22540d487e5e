// Package postgres stores payment in PostgreSQL: accounts, deposits and
// charges, changed inside the caller's transaction. Alone, every movement
// of money is a conditional update; in a consumer batch (LockBatch) the
// commands change the locked rows in memory by the same rules and the
// batch writes them in one round trip before its commit. Either way the
// schema's no-overdraft check backs the rules up, so that balances plus
// charged amounts always equal deposits.
package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	msgpg "github.com/purchase-saga/messaging/postgres"

	"github.com/purchase-saga/payment-service/internal/payment"
)

// Store is a unit of work of the payment database: its accounts,
// deposits and charges, in one transaction. The API opens one (Open); the
// participant flow makes one of its consumer's transaction (New).
type Store struct {
	tx pgx.Tx
}

// New returns the store of tx; the caller commits or rolls back.
func New(tx pgx.Tx) *Store {
	return &Store{tx: tx}
}

// DB is the payment database's units of work (InTx), each a transaction
// of its own, and Update, the one unit of work that changes a single
// account.
type DB struct {
	*msgpg.DB[*Store]
}

// Open returns the units of work of pool.
func Open(pool *pgxpool.Pool) *DB {
	return &DB{DB: msgpg.NewDB(pool, New)}
}

// Update changes account id alone, in a transaction of its own
// (msgpg.Update): it locks the account, hands it to fn, which applies the
// domain's rules (payment.Account.Deposit), and when fn returns nil
// writes it and commits. Concurrent updates of one account so run one
// after the other and none is lost. A rise of the balance is money paid
// in, recorded as a deposit in the same transaction (saveAccount), whose
// id comes back with the account as stored; payment.ErrNotFound when
// there is no such account, fn's error as it is otherwise, nothing
// stored.
func (db *DB) Update(ctx context.Context, id string, fn func(*payment.Account) error) (acct payment.Account, depositID int64, err error) {
	acct, err = msgpg.Update(ctx, db.DB, msgpg.Aggregate[*Store, payment.Account]{
		Lock: (*Store).lockAccount,
		Save: func(s *Store, ctx context.Context, was, now payment.Account) (a payment.Account, err error) {
			a, depositID, err = s.saveAccount(ctx, was, now)
			return a, err
		},
	}, id, fn)
	if err != nil {
		return payment.Account{}, 0, err
	}
	return acct, depositID, nil
}

// translate names op in err, and makes an amount too large for its column
// the caller's invalid input (msgpg.Translate).
func translate(op string, err error) error {
	return msgpg.Translate(err, op, payment.ErrInvalid, "amount")
}

// outOfRange says that op would take an amount beyond what a column holds.
func outOfRange(op string) error {
	return msgpg.OutOfRange(payment.ErrInvalid, op, "amount")
}
