// Package schema holds the tables the messaging mechanism keeps in every
// service's database (the outbox, the relay's position, the inbox) as goose
// migrations embedded in the binary, and applies them. A service applies
// them with Up beside its own migrations, which Apply runs the same way.
package schema

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed sql/*.sql
var files embed.FS

// Table is goose's version table of these migrations, apart from the
// service's own (goose_db_version).
const Table = "goose_messaging_version"

// Up applies the messaging tables' migrations to db.
func Up(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(files, "sql")
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	return Apply(ctx, db, fsys, Table)
}

// Apply applies the goose migrations in fsys to db, versioned in table. A
// Postgres session lock serialises concurrent callers, so that instances
// starting together take turns and the later ones find the work done.
func Apply(ctx context.Context, db *sql.DB, fsys fs.FS, table string) error {
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 120))
	if err != nil {
		return fmt.Errorf("schema: locker: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithSessionLocker(locker), goose.WithTableName(table), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("schema: %s provider: %w", table, err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("schema: %s up: %w", table, err)
	}
	return nil
}
