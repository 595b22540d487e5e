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

// DB is the stock database's units of work (InTx), each a transaction
// of its own, and Update, the one unit of work that changes a single
// item.
type DB struct {
	*msgpg.DB[*Store]
}

// Open returns the units of work of pool.
func Open(pool *pgxpool.Pool) *DB {
	return &DB{DB: msgpg.NewDB(pool, New)}
}

// items is how Update reads and writes an item.
var items = msgpg.Aggregate[*Store, stock.Item]{Lock: (*Store).lockItem, Save: (*Store).saveItem}

// Update changes item id alone, in a transaction of its own
// (msgpg.Update): it locks the item, hands it to fn, which applies the
// domain's rules (stock.Item.Restock, SetDetails), and when fn returns nil
// writes it with its item.updated snapshot and commits. Concurrent
// updates of one item so run one after the other and none is lost, and
// their snapshots enter the outbox in that order. It returns the item as
// stored; stock.ErrNotFound when there is no such item, fn's error as it
// is otherwise, nothing stored.
func (db *DB) Update(ctx context.Context, id string, fn func(*stock.Item) error) (stock.Item, error) {
	return msgpg.Update(ctx, db.DB, items, id, fn)
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
