// Package postgres stores stock in PostgreSQL: items and reservations,
// changed inside the caller's transaction. Every change to an item is
// written to the outbox as an item.updated snapshot in that same
// transaction, here and nowhere else, so that no caller can change an item
// and forget to tell the catalog.
package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	msgpg "github.com/purchase-saga/messaging/postgres"

	"github.com/purchase-saga/stock-service/internal/stock"
)

// Store is a unit of work of the stock database: its items and
// reservations, and the item snapshots it writes to the outbox, in one
// transaction. The API opens one (Open); the participant flow makes one of
// its consumer's transaction (New).
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

// translate names op in err, and makes a quantity too large for its
// column the caller's invalid input (msgpg.Translate).
func translate(op string, err error) error {
	return msgpg.Translate(err, op, stock.ErrInvalid, "quantity")
}
