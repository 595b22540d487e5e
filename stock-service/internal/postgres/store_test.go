package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/purchase-saga/messaging/testdb"
	"github.com/purchase-saga/migrations"

	"github.com/purchase-saga/stock-service/internal/postgres"
	"github.com/purchase-saga/stock-service/internal/stock"
)

func migrate(ctx context.Context, db *sql.DB) error {
	return migrations.Up(ctx, db, migrations.Stock)
}

// seed creates item a with onHand units and returns the database.
func seed(t *testing.T, onHand int64) *testdb.DB {
	t.Helper()
	db := testdb.New(t, migrate)
	ctx := context.Background()
	err := postgres.InTx(ctx, db.Pool, func(s *postgres.Store) error {
		if _, _, err := s.PutItem(ctx, "a", stock.Details{Name: "A", PriceCents: 1, Currency: "EUR"}); err != nil {
			return err
		}
		_, err := s.Restock(ctx, "a", onHand)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func item(t *testing.T, db *testdb.DB) stock.Item {
	t.Helper()
	var it stock.Item
	err := postgres.InTx(context.Background(), db.Pool, func(s *postgres.Store) (err error) {
		it, err = s.Item(context.Background(), "a")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// The handler checks availability before Reserve; these guard rails make
// a caller that skips the check fail instead of overselling or freeing
// units that were never held.
func TestStoreRefusesToOversellOrOverRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		fn   func(*postgres.Store) error
	}{
		{"reserve more than available", func(s *postgres.Store) error {
			return s.Reserve(ctx, "o1", []stock.Line{{ItemID: "a", Quantity: 4}})
		}},
		{"release more than reserved", func(s *postgres.Store) error {
			return s.Release(ctx, stock.Reservation{OrderID: "o1", Status: stock.Reserved,
				Lines: []stock.Line{{ItemID: "a", Quantity: 1}}})
		}},
		{"reserve an unknown item", func(s *postgres.Store) error {
			return s.Reserve(ctx, "o1", []stock.Line{{ItemID: "a", Quantity: 1}, {ItemID: "nope", Quantity: 1}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := seed(t, 3)
			err := postgres.InTx(ctx, db.Pool, tt.fn)
			if err == nil {
				t.Fatal("err = nil, want a refusal")
			}
			if it := item(t, db); it.Reserved != 0 || it.OnHand != 3 {
				t.Errorf("after a refused change: reserved %d on hand %d, want 0 and 3", it.Reserved, it.OnHand)
			}
		})
	}
}

func TestStoreNotFoundAndOutOfRange(t *testing.T) {
	t.Parallel()
	db := seed(t, 1)
	ctx := context.Background()
	err := postgres.InTx(ctx, db.Pool, func(s *postgres.Store) error {
		_, err := s.Restock(ctx, "nope", 1)
		return err
	})
	if !errors.Is(err, stock.ErrNotFound) {
		t.Errorf("restock of unknown item: err = %v, want stock.ErrNotFound", err)
	}
	err = postgres.InTx(ctx, db.Pool, func(s *postgres.Store) error {
		_, err := s.Restock(ctx, "a", 1<<62)
		if err != nil {
			return err
		}
		_, err = s.Restock(ctx, "a", 1<<62)
		return err
	})
	if !errors.Is(err, stock.ErrInvalid) {
		t.Errorf("restock past bigint: err = %v, want stock.ErrInvalid", err)
	}
}
