// Package postgres stores payment in PostgreSQL: accounts, deposits and
// charges, changed inside the caller's transaction. Alone, every movement
// of money is a conditional update; in a consumer batch (LockBatch) the
// commands change the locked rows in memory by the same rules and the
// batch writes them in one round trip before its commit. Either way the
// schema's no-overdraft check backs the rules up, so that balances plus
// charged amounts always equal deposits.
package postgres

import (
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

// Open returns the units of work of pool, each a transaction of its own.
func Open(pool *pgxpool.Pool) *msgpg.DB[*Store] {
	return msgpg.NewDB(pool, New)
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
