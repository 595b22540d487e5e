package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is a service's one way into its database: units of work, each one
// transaction of its pool with the store S (the repositories and the
// outbox of that transaction) that open makes of it. A consumer's
// transaction is made a unit of work by the same open, so that an API and
// a consumer change the same data through the same store.
type DB[S any] struct {
	pool *pgxpool.Pool
	open func(pgx.Tx) S
}

// NewDB returns the units of work of pool, whose store open makes.
func NewDB[S any](pool *pgxpool.Pool, open func(pgx.Tx) S) *DB[S] {
	return &DB[S]{pool: pool, open: open}
}

// InTx runs fn on a new unit of work and commits it when fn returns nil,
// rolling it back otherwise; a failed commit is an error (see InTx).
func (db *DB[S]) InTx(ctx context.Context, fn func(S) error) error {
	return InTx(ctx, db.pool, db.open, fn)
}

// OutOfRange is the error of op, which would take a value (what: "amount",
// "quantity") beyond what its column holds: the caller's input is at
// fault, so it wraps invalid, the domain's invalid-input sentinel.
func OutOfRange(invalid error, op, what string) error {
	return fmt.Errorf("%w: %s: %s out of range", invalid, op, what)
}

// Translate wraps err, the failure of a store's op, for its caller: a
// value too large for its column (IsOutOfRange) becomes OutOfRange's
// error, and anything else is wrapped naming op, its transient
// classification intact.
func Translate(err error, op string, invalid error, what string) error {
	if IsOutOfRange(err) {
		return OutOfRange(invalid, op, what)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// CollectByKey reads rows with scan into m, each under its key, after
// marking every key of asked as read and absent (nil): a store that reads
// a set of rows once (a consumer batch's) then knows, of each key asked
// for, its row or that there is none, without asking again. It returns
// the rows' error as it is, for the store to translate.
func CollectByKey[T any](rows pgx.Rows, scan pgx.RowToFunc[T], key func(*T) string, asked []string, m map[string]*T) error {
	found, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return err
	}
	for _, k := range asked {
		m[k] = nil
	}
	for i := range found {
		m[key(&found[i])] = &found[i]
	}
	return nil
}
