package migrations_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/purchase-saga/messaging/testdb"
	"github.com/purchase-saga/migrations"
)

// TestConcurrentUpIsSafe starts every database's migrations from several
// "instances" at once: the session lock lets one apply them and the others
// find them applied.
func TestConcurrentUpIsSafe(t *testing.T) {
	for _, name := range []string{migrations.Order, migrations.Stock, migrations.Payment} {
		t.Run(name, func(t *testing.T) {
			db := testdb.New(t, nil)
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Go(func() {
					sqlDB := stdlib.OpenDBFromPool(db.Pool)
					defer sqlDB.Close()
					errs[i] = migrations.Up(context.Background(), sqlDB, name)
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("instance %d: %v", i, err)
				}
			}
			for _, table := range []string{"outbox", "inbox"} {
				var exists bool
				if err := db.Pool.QueryRow(context.Background(), `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&exists); err != nil || !exists {
					t.Errorf("table %s missing after migration (err %v)", table, err)
				}
			}
		})
	}
}

func TestUnknownDatabaseIsRefused(t *testing.T) {
	if err := migrations.Up(context.Background(), (*sql.DB)(nil), "inventory"); err == nil {
		t.Error("migrating an unknown database did not fail")
	}
}
