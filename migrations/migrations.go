// Package migrations holds the goose SQL migrations of the three databases,
// embedded, and applies them safely when several instances start at once.
//
// Every database gets the messaging set (outbox and inbox, versioned in
// goose_messaging_version) and then its own set (versioned in
// goose_db_version).
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed messaging/*.sql order/*.sql stock/*.sql payment/*.sql
var files embed.FS

// The databases this package migrates, and Messaging, the set every one of
// them gets (alone, for tests of the messaging mechanism).
const (
	Order     = "order"
	Stock     = "stock"
	Payment   = "payment"
	Messaging = "messaging"
)

// FS returns the migrations of one set: Order, Stock, Payment or "messaging".
func FS(set string) (fs.FS, error) {
	return fs.Sub(files, set)
}

// Up applies the messaging set and then the named database's set to db.
// Up(ctx, db, Messaging) applies the messaging set alone.
// A Postgres session lock serialises concurrent callers.
func Up(ctx context.Context, db *sql.DB, database string) error {
	switch database {
	case Order, Stock, Payment, Messaging:
	default:
		return fmt.Errorf("migrations: unknown database %q", database)
	}
	if err := up(ctx, db, Messaging, "goose_messaging_version"); err != nil || database == Messaging {
		return err
	}
	return up(ctx, db, database, goose.DefaultTablename)
}

func up(ctx context.Context, db *sql.DB, set, table string) error {
	fsys, err := FS(set)
	if err != nil {
		return fmt.Errorf("migrations: %s: %w", set, err)
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 120))
	if err != nil {
		return fmt.Errorf("migrations: locker: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithSessionLocker(locker), goose.WithTableName(table), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrations: %s provider: %w", set, err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrations: %s up: %w", set, err)
	}
	return nil
}
