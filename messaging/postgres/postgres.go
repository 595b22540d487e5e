// Package postgres opens pgx pools and classifies PostgreSQL errors into
// transient ones (retry, blocking) and the rest.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// IdleInTransactionTimeout is how long the server lets a session of a
// Connect pool sit idle inside a transaction before it ends the session.
const IdleInTransactionTimeout = "30s"

// Connect opens a pool on url and checks that the server answers.
func Connect(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	// Plans are left to the server (plan_cache_mode auto): a generic plan
	// made while a table is small scans it whole, and the hot statements'
	// array parameters make such a plan look cheap, so forced generic
	// plans kept scanning tables that had long outgrown them (measured:
	// no gain in throughput, more CPU at low rates). The URL may say
	// otherwise (&plan_cache_mode=force_generic_plan).
	if _, set := cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"]; !set {
		// A transaction left open by a client that froze or lost its
		// network would hold its locks, the outbox writers' lock among
		// them (messaging/outbox), until TCP gives up, hours later: the
		// server ends such a session instead. A service's transactions
		// never wait on anything but the database.
		cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = IdleInTransactionTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: new pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: ping: %w", err)
	}
	return pool, nil
}

// SQLSTATE codes that say "try again later" rather than "this is wrong".
var transientCodes = map[string]bool{
	"40001": true, // serialization_failure
	"40P01": true, // deadlock_detected
	"55P03": true, // lock_not_available
	"57P01": true, // admin_shutdown
	"57P02": true, // crash_shutdown
	"57P03": true, // cannot_connect_now
	"53300": true, // too_many_connections
	"53400": true, // configuration_limit_exceeded
	"58000": true, // system_error
	"58030": true, // io_error
}

// IsConflict reports whether err is a transaction that lost a race with
// another (serialization failure, deadlock): retrying it with less work in
// the transaction helps.
func IsConflict(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// Code returns err's SQLSTATE, or "" when it has none.
func Code(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// LockKeys takes transaction-scoped advisory locks on keys, as LockKey
// does, in one round trip and in the order of the locks' own numbers, so
// that transactions locking several keys this way never wait for each
// other in a cycle.
func LockKeys(ctx context.Context, tx pgx.Tx, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	batch := &pgx.Batch{}
	locked := QueueLockKeys(ctx, batch, keys)
	br := tx.SendBatch(ctx, batch)
	err := locked(br)
	if cerr := br.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("postgres: lock %d keys: %w", len(keys), cerr)
	}
	return err
}

// QueueLockKeys adds LockKeys' statement to batch, for a caller that sends
// it with reads of its own in one round trip (the server runs a batch's
// statements in order: rows locked by the statements after it are locked
// after the keys). It returns what reads the statement's result, the first
// of the batch's results: LockKeys' error, and, when the keys are locked,
// it records them in the transaction's hooks as LockKeys does. With no
// keys it queues nothing and reads nothing.
func QueueLockKeys(ctx context.Context, batch *pgx.Batch, keys []string) func(pgx.BatchResults) error {
	if len(keys) == 0 {
		return func(pgx.BatchResults) error { return nil }
	}
	// The aggregate takes its input, and so the locks, in the subquery's order.
	batch.Queue(`SELECT count(pg_advisory_xact_lock(h)) FROM (
		SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY h) AS hashes`, keys)
	return func(br pgx.BatchResults) error {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("postgres: lock %d keys: %w", len(keys), err)
		}
		if h, ok := ctx.Value(txHooksKey{}).(*TxHooks); ok {
			for _, k := range keys {
				h.locked[k] = true
			}
		}
		return nil
	}
}

// IsUnavailable reports whether err says the database cannot be reached or
// cannot serve at all (the connection failed, the server is starting or
// shutting down, no connection slot is free): waiting is the only cure.
func IsUnavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		c := pgErr.Code
		return strings.HasPrefix(c, "08") || c == "57P01" || c == "57P02" || c == "57P03" || c == "53300"
	}
	return IsTransient(err)
}

// IsDataError reports whether err is the statement's data at fault: a
// data exception (class 22, such as a NUL in text or a value out of range)
// or an integrity violation (class 23, such as a deferred constraint
// refused at commit). Retrying the same data cannot help.
func IsDataError(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && len(pgErr.Code) == 5 && (pgErr.Code[:2] == "22" || pgErr.Code[:2] == "23")
}

// IsOutOfRange reports whether err is a value too large for its column
// (numeric_value_out_of_range): the caller's input, not the server, is at
// fault, so a store translates it into its domain's invalid-input error.
func IsOutOfRange(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "22003"
}

// IsTransient reports whether err is worth retrying unchanged: the server is
// unreachable, restarting, or the transaction lost a race (serialization
// failure, deadlock).
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return transientCodes[pgErr.Code] || (len(pgErr.Code) == 5 && pgErr.Code[:2] == "08")
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr), errors.As(err, &netErr):
		return true
	case pgconn.SafeToRetry(err), pgconn.Timeout(err):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	return isClosedConn(err)
}

// isClosedConn catches pgx's errors for a connection that died under it,
// which carry no SQLSTATE and no typed cause.
func isClosedConn(err error) bool {
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"conn closed", "closed pool", "unexpected eof", "connection reset", "broken pipe", "failed to deallocate"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// LockKey takes a transaction-scoped advisory lock on key, serialising
// the transactions that touch the same key (such as one saga's commands
// arriving on two topics) until tx ends. A key that LockKeys already took
// in this transaction (ctx carrying its TxHooks) costs no round trip.
func LockKey(ctx context.Context, tx pgx.Tx, key string) error {
	if h, ok := ctx.Value(txHooksKey{}).(*TxHooks); ok && h.locked[key] {
		return nil // LockKeys took it for the whole transaction
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, key); err != nil {
		return fmt.Errorf("postgres: lock %s: %w", key, err)
	}
	return nil
}

// InTx runs fn on the store that newStore makes of a new transaction of
// pool, and commits the transaction when fn returns nil, rolling it back
// otherwise. The commit's own error is returned: a commit can fail (a
// serialization failure, a deferred constraint) after fn succeeded, and
// must not then be reported as success.
func InTx[S any](ctx context.Context, pool *pgxpool.Pool, newStore func(pgx.Tx) S, fn func(S) error) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return fn(newStore(tx)) })
}
