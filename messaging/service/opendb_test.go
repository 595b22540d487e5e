package service_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/purchase-saga/messaging/service"
	"github.com/purchase-saga/messaging/testdb"
	"github.com/purchase-saga/messaging/testproxy"
)

// A database that goes away while the service migrates (its restart, an
// outage) delays the start; it does not end it, as it did when a reset
// connection made the migration fail.
func TestOpenDatabaseMigratesAgainAfterTheConnectionIsLost(t *testing.T) {
	db := testdb.New(t, nil)
	u, err := url.Parse(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := testproxy.New(t, u.Host)
	attempts := 0
	migrate := func(ctx context.Context, sqlDB *sql.DB) error {
		attempts++
		if attempts == 1 {
			proxy.Cut(testproxy.Refuse)
			time.AfterFunc(300*time.Millisecond, proxy.Restore)
		}
		_, err := sqlDB.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrated (id int)`)
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var pool *pgxpool.Pool
	pool, err = service.OpenDatabase(ctx, service.Config{DatabaseURL: proxy.URL(db.URL), DBMaxConns: 2},
		slog.New(slog.DiscardHandler), migrate)
	if err != nil {
		t.Fatalf("OpenDatabase: %v (after %d attempts), want the migration applied once the database is back", err, attempts)
	}
	defer pool.Close()
	if attempts < 2 {
		t.Errorf("migrate ran %d times, want again after the lost connection", attempts)
	}
}

// A migration that fails by itself fails the start at once.
func TestOpenDatabaseReturnsAFailingMigrationAtOnce(t *testing.T) {
	db := testdb.New(t, nil)
	attempts := 0
	migrate := func(ctx context.Context, sqlDB *sql.DB) error {
		attempts++
		_, err := sqlDB.ExecContext(ctx, `CREATE TABLE broken (id no_such_type)`)
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := service.OpenDatabase(ctx, service.Config{DatabaseURL: db.URL, DBMaxConns: 2}, slog.New(slog.DiscardHandler), migrate)
	if err == nil || errors.Is(err, context.DeadlineExceeded) || attempts != 1 {
		t.Errorf("err %v after %d attempts, want the migration's own error after one", err, attempts)
	}
}
