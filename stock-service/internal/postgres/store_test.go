package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/contract/topic"
	msgpg "github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/messaging/testdb"
	"github.com/purchase-saga/migrations"

	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/stock-service/internal/postgres"
	"github.com/purchase-saga/stock-service/internal/stock"
)

var migrate = migrations.For(migrations.Stock)

// seed creates item a with onHand units and returns the database.
func seed(t *testing.T, onHand int64) *testdb.DB {
	t.Helper()
	db := testdb.New(t, migrate)
	ctx := context.Background()
	err := postgres.Open(db.Pool).InTx(ctx, func(s *postgres.Store) error {
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
	err := postgres.Open(db.Pool).InTx(context.Background(), func(s *postgres.Store) (err error) {
		it, err = s.Item(context.Background(), "a")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// inBatch runs fn on a store in a transaction of db whose orderIDs and
// items LockBatch locked first, as a consumer's batch does: the store
// then changes the batch in memory and writes it before the commit.
func inBatch(t *testing.T, db *testdb.DB, orderIDs, items []string, fn func(context.Context, *postgres.Store) error) error {
	t.Helper()
	return pgx.BeginFunc(context.Background(), db.Pool, func(tx pgx.Tx) error {
		ctx, hooks := msgpg.WithTxHooks(context.Background())
		s := postgres.New(tx)
		if err := s.LockBatch(ctx, orderIDs, items, orderIDs); err != nil {
			return err
		}
		if err := fn(ctx, s); err != nil {
			return err
		}
		return hooks.BeforeCommit(ctx)
	})
}

// The handler checks availability before Reserve; these guard rails make
// a caller that skips the check fail instead of overselling or freeing
// units that were never held, with the same error whether the store
// changes the rows at once or in a batch's memory.
func TestStoreRefusesToOversellOrOverRelease(t *testing.T) {
	t.Parallel()
	reservation := func(q int64) stock.Reservation {
		return stock.Reservation{OrderID: "o1", Status: stock.Reserved, Lines: []stock.Line{{ItemID: "a", Quantity: q}}}
	}
	tests := []struct {
		name string
		fn   func(context.Context, *postgres.Store) error
		want string // the error, the same in both ways; "" for any
	}{
		{"reserve more than available", func(ctx context.Context, s *postgres.Store) error {
			return s.Reserve(ctx, "o1", []stock.Line{{ItemID: "a", Quantity: 4}})
		}, "postgres: reserve: 0 of 1 lines could be applied"},
		{"release more than reserved", func(ctx context.Context, s *postgres.Store) error {
			if err := s.Reserve(ctx, "o1", reservation(1).Lines); err != nil {
				return err
			}
			return s.Release(ctx, reservation(2))
		}, "postgres: release: 0 of 1 lines could be applied"},
		{"reserve an unknown item", func(ctx context.Context, s *postgres.Store) error {
			return s.Reserve(ctx, "o1", []stock.Line{{ItemID: "a", Quantity: 1}, {ItemID: "nope", Quantity: 1}})
		}, "postgres: reserve: 1 of 2 lines could be applied"},
		{"reserve twice", func(ctx context.Context, s *postgres.Store) error {
			if err := s.Reserve(ctx, "o1", reservation(1).Lines); err != nil {
				return err
			}
			return s.Reserve(ctx, "o1", reservation(1).Lines)
		}, ""},
		{"tombstone a reservation", func(ctx context.Context, s *postgres.Store) error {
			if err := s.Reserve(ctx, "o1", reservation(1).Lines); err != nil {
				return err
			}
			return s.Tombstone(ctx, "o1")
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := seed(t, 3)
			direct := postgres.Open(db.Pool).InTx(context.Background(), func(s *postgres.Store) error {
				return tt.fn(context.Background(), s)
			})
			batched := inBatch(t, db, []string{"o1"}, []string{"a", "nope"}, tt.fn)
			for way, err := range map[string]error{"at once": direct, "in a batch": batched} {
				switch {
				case err == nil:
					t.Errorf("%s: err = nil, want a refusal", way)
				case tt.want != "" && err.Error() != tt.want:
					t.Errorf("%s: err = %q, want %q", way, err, tt.want)
				}
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
	err := postgres.Open(db.Pool).InTx(ctx, func(s *postgres.Store) error {
		_, err := s.Restock(ctx, "nope", 1)
		return err
	})
	if !errors.Is(err, stock.ErrNotFound) {
		t.Errorf("restock of unknown item: err = %v, want stock.ErrNotFound", err)
	}
	err = postgres.Open(db.Pool).InTx(ctx, func(s *postgres.Store) error {
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

// The rows a batch writes before its commit are locked by its
// transaction, so its writes cannot fail but for a bug; when they do, the
// error names the statement. Here the transaction itself changes the rows
// behind the batch's back.
func TestBatchWriteNamesWhatFailed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fn     func(context.Context, *postgres.Store) error
		behind string
		want   string
	}{
		{"items", func(ctx context.Context, s *postgres.Store) error {
			return s.Reserve(ctx, "o1", []stock.Line{{ItemID: "a", Quantity: 2}})
		}, `UPDATE items SET on_hand = 1`, "postgres: write batch: update items: "},
		{"reservations", func(ctx context.Context, s *postgres.Store) error {
			return s.Tombstone(ctx, "o1")
		}, `INSERT INTO reservations (order_id, status) VALUES ('o1', 'RELEASED')`,
			"postgres: write batch: write reservations: 0 of 1 rows changed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := seed(t, 3)
			err := pgx.BeginFunc(context.Background(), db.Pool, func(tx pgx.Tx) error {
				ctx, hooks := msgpg.WithTxHooks(context.Background())
				s := postgres.New(tx)
				if err := s.LockBatch(ctx, []string{"o1"}, []string{"a"}, nil); err != nil {
					return err
				}
				if err := tt.fn(ctx, s); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, tt.behind); err != nil {
					return err
				}
				return hooks.BeforeCommit(ctx)
			})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %v, want one starting %q", err, tt.want)
			}
		})
	}
}

// An admin change in a batch's transaction joins the batch: the stock it
// adds counts for the batch's later commands, and the item's one snapshot
// and its row show both.
func TestBatchKeepsAnAdminChange(t *testing.T) {
	t.Parallel()
	db := seed(t, 3)
	before := len(servicetest.Outbox(t, db.Pool, topic.Items))
	err := inBatch(t, db, []string{"o1", "o2"}, []string{"a"}, func(ctx context.Context, s *postgres.Store) error {
		if err := s.Reserve(ctx, "o1", []stock.Line{{ItemID: "a", Quantity: 3}}); err != nil {
			return err
		}
		if _, err := s.Restock(ctx, "a", 2); err != nil {
			return err
		}
		return s.Reserve(ctx, "o2", []stock.Line{{ItemID: "a", Quantity: 1}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if it := item(t, db); it.OnHand != 5 || it.Reserved != 4 {
		t.Errorf("on hand %d reserved %d, want 5 and 4", it.OnHand, it.Reserved)
	}
	snapshots := servicetest.Outbox(t, db.Pool, topic.Items)[before:]
	if len(snapshots) != 1 {
		t.Fatalf("%d snapshots, want 1", len(snapshots))
	}
	if got := servicetest.Data[stockmsg.ItemUpdated](t, snapshots[0].Message).Available; got != 1 {
		t.Errorf("snapshot: available %d, want 1", got)
	}
}
