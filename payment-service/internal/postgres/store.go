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
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	msgpg "github.com/purchase-saga/messaging/postgres"

	"github.com/purchase-saga/payment-service/internal/payment"
)

// Store reads and changes payment data inside one transaction.
type Store struct {
	tx pgx.Tx
}

// New returns a store working in tx; the caller commits or rolls back.
func New(tx pgx.Tx) *Store {
	return &Store{tx: tx}
}

// InTx runs fn on a store in a new transaction of pool and commits it when
// fn returns nil. A failed commit is reported as an error.
func InTx(ctx context.Context, pool *pgxpool.Pool, fn func(*Store) error) error {
	return msgpg.InTx(ctx, pool, New, fn)
}

// translate turns the Postgres errors a caller can cause into domain
// errors, leaving the others (and their transient classification) intact.
func translate(op string, err error) error {
	if msgpg.IsOutOfRange(err) {
		return outOfRange(op)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// outOfRange says that op would take an amount beyond what a column holds.
func outOfRange(op string) error {
	return fmt.Errorf("%w: %s: amount out of range", payment.ErrInvalid, op)
}
