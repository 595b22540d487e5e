// Package migrations holds the goose SQL migrations of the three databases'
// business tables, embedded, and applies them safely when several
// instances start at once.
//
// Every database gets the messaging tables first (messaging/schema,
// versioned in goose_messaging_version) and then its own set (versioned in
// goose_db_version).
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"

	"github.com/purchase-saga/messaging/schema"
)

//go:embed order/*.sql stock/*.sql payment/*.sql
var files embed.FS

// The databases this package migrates.
const (
	Order   = "order"
	Stock   = "stock"
	Payment = "payment"
)

// FS returns the migrations of one database: Order, Stock or Payment.
func FS(database string) (fs.FS, error) {
	return fs.Sub(files, database)
}

// For returns the migration of one database (Up of it), in the form
// service.Spec's Migrate takes, so that a service names its database and
// nothing more: Migrate: migrations.For(migrations.Stock).
func For(database string) func(context.Context, *sql.DB) error {
	return func(ctx context.Context, db *sql.DB) error { return Up(ctx, db, database) }
}

// Up applies the messaging tables and then the named database's set to db.
func Up(ctx context.Context, db *sql.DB, database string) error {
	switch database {
	case Order, Stock, Payment:
	default:
		return fmt.Errorf("migrations: unknown database %q", database)
	}
	if err := schema.Up(ctx, db); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	fsys, err := FS(database)
	if err != nil {
		return fmt.Errorf("migrations: %s: %w", database, err)
	}
	if err := schema.Apply(ctx, db, fsys, goose.DefaultTablename); err != nil {
		return fmt.Errorf("migrations: %s: %w", database, err)
	}
	return nil
}
