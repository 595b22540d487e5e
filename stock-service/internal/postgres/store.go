// Package postgres stores stock in PostgreSQL: items and reservations,
// changed inside the caller's transaction. Every change to an item is
// written to the outbox as an item.updated snapshot in that same
// transaction, here and nowhere else, so that no caller can change an item
// and forget to tell the catalog.
package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	msgpg "github.com/purchase-saga/messaging/postgres"

	"github.com/purchase-saga/stock-service/internal/stock"
)

// Store reads and changes stock inside one transaction.
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

// LockOrder serialises the commands of one order until the transaction
// ends. A reserve and a release of the same order arrive on different
// topics and may run at once; without this, both could see no reservation
// and the release would leave a tombstone beside a reservation it never
// gave back.
func (s *Store) LockOrder(ctx context.Context, orderID string) error {
	return msgpg.LockKey(ctx, s.tx, orderID)
}

// LockOrders takes LockOrder for every order of orderIDs at once, in a
// global order, so that transactions locking several orders never wait
// for each other in a cycle.
func (s *Store) LockOrders(ctx context.Context, orderIDs []string) error {
	return msgpg.LockKeys(ctx, s.tx, orderIDs)
}

// translate turns the Postgres errors a caller can cause into domain
// errors, leaving the others (and their transient classification) intact.
func translate(op string, err error) error {
	if msgpg.IsOutOfRange(err) {
		return fmt.Errorf("%w: %s: quantity out of range", stock.ErrInvalid, op)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}
