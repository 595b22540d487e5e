// Package postgres stores orders and the catalog read model in orderdb.
// Store is the only way in: reads on its pool, and units of work (InTx,
// Update) whose Tx gives the orders and catalog repositories and the
// outbox of one transaction, so that the saga and the API never hold a
// pool or a transaction of their own.
package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	mpostgres "github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/order-service/internal/order"
)

// querier is what both a pool and a transaction offer: the reads of the
// repositories run on either.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Store is orderdb over a pool.
type Store struct {
	pool *pgxpool.Pool
}

// NewStore returns the store of pool.
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool}
}

// Orders reads orders outside any transaction (each read is its own).
func (s *Store) Orders() Orders { return Orders{q: s.pool} }

// Catalog reads and writes the catalog outside any transaction.
func (s *Store) Catalog() Catalog { return Catalog{q: s.pool} }

// InTx runs fn on the unit of work of a new transaction and commits it
// when fn returns nil, rolling it back otherwise. The commit's own error
// is returned (messaging/postgres.InTx): a commit that fails after fn
// succeeded is no success.
func (s *Store) InTx(ctx context.Context, fn func(*Tx) error) error {
	return mpostgres.InTx(ctx, s.pool, NewTx, fn)
}

// Update changes order id alone, in a transaction of its own: it reads
// and locks the order (SELECT … FOR UPDATE), so that concurrent updates
// of one order run one after the other and none is lost, hands it to fn,
// and stores what fn left of it when fn returns nil. An order that fn
// makes terminal is announced on EndedChannel. order.ErrNotFound when
// there is no such order; fn's error otherwise, nothing stored.
func (s *Store) Update(ctx context.Context, id string, fn func(*order.Order) error) error {
	// Hooks of its own: the buffered writes of an enclosing unit of work
	// (a consumer's batch) are not this transaction's.
	ctx, hooks := mpostgres.WithTxHooks(ctx)
	err := s.InTx(ctx, func(tx *Tx) error {
		o, err := tx.Orders.lock(ctx, id)
		if err != nil {
			return err
		}
		wasTerminal := o.Terminal()
		if err := fn(&o); err != nil {
			return err
		}
		if err := tx.Orders.Save(ctx, Change{Order: o, Ended: !wasTerminal && o.Terminal()}); err != nil {
			return err
		}
		return hooks.BeforeCommit(ctx)
	})
	if err != nil {
		return fmt.Errorf("postgres: update order %s: %w", id, err)
	}
	hooks.Committed()
	return nil
}
