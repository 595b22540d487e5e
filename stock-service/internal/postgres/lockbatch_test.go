package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	msgpg "github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/messaging/testdb"

	"github.com/purchase-saga/stock-service/internal/postgres"
	"github.com/purchase-saga/stock-service/internal/stock"
)

// checkTrips fails t unless s counted want round trips since its last
// reset, with as many statements as prefixes, each beginning with its
// prefix.
func checkTrips(t *testing.T, s *servicetest.Statements, what string, want int, prefixes ...string) {
	t.Helper()
	sql := s.SQL()
	ok := s.RoundTrips() == want && len(sql) == len(prefixes)
	for i := 0; ok && i < len(prefixes); i++ {
		ok = strings.HasPrefix(sql[i], prefixes[i])
	}
	if !ok {
		t.Errorf("%s: %d statements in %d round trips:\n\t%s\nwant %d round trips of:\n\t%s",
			what, len(sql), s.RoundTrips(), strings.Join(sql, "\n\t"), want, strings.Join(prefixes, "…\n\t"))
	}
}

// inStore runs fn in a transaction of db.Pool and commits it.
func inStore(t *testing.T, db *testdb.DB, fn func(context.Context, *postgres.Store) error) {
	t.Helper()
	ctx := context.Background()
	if err := postgres.Open(db.Pool).InTx(ctx, func(s *postgres.Store) error { return fn(ctx, s) }); err != nil {
		t.Fatal(err)
	}
}

// addItem creates item id with onHand units.
func addItem(t *testing.T, db *testdb.DB, id string, onHand int64) {
	t.Helper()
	inStore(t, db, func(ctx context.Context, s *postgres.Store) error {
		if _, _, err := s.PutItem(ctx, id, stock.Details{Name: id, PriceCents: 1, Currency: "EUR"}); err != nil {
			return err
		}
		_, err := s.Restock(ctx, id, onHand)
		return err
	})
}

// orderLocked reports whether another transaction holds orderID's lock.
func orderLocked(t *testing.T, db *testdb.DB, orderID string) bool {
	t.Helper()
	var free bool
	// Outside a transaction the lock, when taken, ends with the statement.
	err := db.Pool.QueryRow(context.Background(), `SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))`, orderID).Scan(&free)
	if err != nil {
		t.Fatal(err)
	}
	return !free
}

// itemLocked reports whether another transaction holds item id's row.
func itemLocked(t *testing.T, db *testdb.DB, id string) bool {
	t.Helper()
	err := pgx.BeginFunc(context.Background(), db.Pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(context.Background(), `SELECT 1 FROM items WHERE id = $1 FOR UPDATE NOWAIT`, id)
		return err
	})
	if msgpg.Code(err) == "55P03" {
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	return false
}

const (
	lockSQL         = "SELECT count(pg_advisory_xact_lock(h))"
	reservedSQL     = "SELECT DISTINCT l->>'item_id' FROM reservations"
	itemsSQL        = "SELECT id, name, price_cents, currency, on_hand, reserved FROM items WHERE id = ANY($1) ORDER BY id FOR UPDATE"
	releasedSQL     = "SELECT id, name, price_cents, currency, on_hand, reserved FROM items WHERE id = ANY($3::text[] || ARRAY("
	reservationsSQL = "SELECT order_id, status, lines FROM reservations WHERE order_id = ANY($1)"
)

// The lock phase of a batch of reserves, the common one, takes one round
// trip: the orders' locks, the item rows in id order and the orders'
// reservations in one pgx.Batch. Everything the batch's commands then ask
// of the orders and items it locked costs none: the locks are held (and
// LockOrder knows it) and the batch holds the rows, the unknown item too.
func TestLockBatchOfReservesIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	db := seed(t, 3)
	addItem(t, db, "b", 5)
	pool, trips := servicetest.CountingPool(t, db)
	err := pgx.BeginFunc(context.Background(), pool, func(tx pgx.Tx) error {
		ctx, hooks := msgpg.WithTxHooks(context.Background())
		s := postgres.New(tx)
		trips.Reset()
		if err := s.LockBatch(ctx, []string{"o2", "o1"}, []string{"b", "a", "nope", "a"}, nil); err != nil {
			return err
		}
		checkTrips(t, trips, "LockBatch of reserves", 1, lockSQL, itemsSQL, reservationsSQL)
		for _, o := range []string{"o1", "o2"} {
			if !orderLocked(t, db, o) {
				t.Errorf("order %s is not locked", o)
			}
		}
		for _, id := range []string{"a", "b"} {
			if !itemLocked(t, db, id) {
				t.Errorf("item %s is not locked", id)
			}
		}

		trips.Reset()
		for _, o := range []string{"o1", "o2"} {
			if err := s.LockOrder(ctx, o); err != nil {
				return err
			}
			if _, ok, err := s.Reservation(ctx, o); err != nil || ok {
				return fmt.Errorf("reservation of %s: ok %v err %v, want none", o, ok, err)
			}
		}
		items, err := s.LockItems(ctx, []string{"a", "nope", "b"})
		if err != nil {
			return err
		}
		if a, b := items["a"], items["b"]; len(items) != 2 || a.OnHand != 3 || a.Reserved != 0 || b.OnHand != 5 || b.Name != "b" {
			t.Errorf("LockItems after LockBatch = %+v, want a with 3 units and b with 5", items)
		}
		if err := s.Reserve(ctx, "o1", []stock.Line{{ItemID: "a", Quantity: 2}, {ItemID: "b", Quantity: 1}}); err != nil {
			return err
		}
		checkTrips(t, trips, "commands after LockBatch", 0)
		return hooks.BeforeCommit(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
	if it := item(t, db); it.Reserved != 2 {
		t.Errorf("a reserved %d, want 2", it.Reserved)
	}
}

// A batch that releases orders takes its locks in one round trip too: the
// released orders' items, found by the statement that locks the item rows,
// are locked with them in id order, and only they and the batch's own.
func TestLockBatchWithReleasesIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		orders []string
		items  []string
		locked []string
	}{
		{"releases alone", []string{"o8", "o9"}, nil, []string{"b"}},
		{"releases and reserves", []string{"o1", "o8", "o9"}, []string{"a"}, []string{"a", "b"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := seed(t, 3)
			addItem(t, db, "b", 5)
			addItem(t, db, "c", 5)
			inStore(t, db, func(ctx context.Context, s *postgres.Store) error {
				if err := s.Reserve(ctx, "o8", []stock.Line{{ItemID: "c", Quantity: 1}}); err != nil {
					return err
				}
				if err := s.Reserve(ctx, "o9", []stock.Line{{ItemID: "b", Quantity: 2}}); err != nil {
					return err
				}
				return s.Release(ctx, stock.Reservation{OrderID: "o8", Status: stock.Reserved, Lines: []stock.Line{{ItemID: "c", Quantity: 1}}})
			})
			pool, trips := servicetest.CountingPool(t, db)
			err := pgx.BeginFunc(context.Background(), pool, func(tx pgx.Tx) error {
				ctx, hooks := msgpg.WithTxHooks(context.Background())
				s := postgres.New(tx)
				trips.Reset()
				if err := s.LockBatch(ctx, tt.orders, tt.items, []string{"o8", "o9"}); err != nil {
					return err
				}
				checkTrips(t, trips, "LockBatch with releases", 1, lockSQL, reservedSQL, releasedSQL, reservationsSQL)
				for _, id := range []string{"a", "b", "c"} {
					if got, want := itemLocked(t, db, id), slices.Contains(tt.locked, id); got != want {
						t.Errorf("item %s locked: %v, want %v", id, got, want)
					}
				}

				trips.Reset()
				r, ok, err := s.Reservation(ctx, "o9")
				if err != nil || !ok || r.Status != stock.Reserved {
					return fmt.Errorf("reservation of o9: %+v ok %v err %v, want Reserved", r, ok, err)
				}
				if _, ok, err := s.Reservation(ctx, "o8"); err != nil || !ok {
					return fmt.Errorf("reservation of o8: ok %v err %v, want one", ok, err)
				}
				if err := s.Release(ctx, r); err != nil {
					return err
				}
				if _, err := s.LockItems(ctx, tt.locked); err != nil {
					return err
				}
				checkTrips(t, trips, "commands after LockBatch", 0)
				return hooks.BeforeCommit(ctx)
			})
			if err != nil {
				t.Fatal(err)
			}
			var b stock.Item
			inStore(t, db, func(ctx context.Context, s *postgres.Store) (err error) {
				b, err = s.Item(ctx, "b")
				return err
			})
			if b.Reserved != 0 {
				t.Errorf("b reserved %d after o9's release, want 0", b.Reserved)
			}
		})
	}
}

// When a lock cannot be had, LockBatch fails as its statements sent one
// at a time (LockOrders, ReservedItems, LockItems, Reservation) fail: the
// same error, as transient, and LockOrder then knows the orders' locks
// exactly when it knew them.
func TestLockBatchFailsAsOneStatementAtATime(t *testing.T) {
	t.Parallel()
	db := seed(t, 3)
	inStore(t, db, func(ctx context.Context, s *postgres.Store) error {
		return s.Reserve(ctx, "o9", []stock.Line{{ItemID: "a", Quantity: 1}})
	})
	oneAtATime := func(ctx context.Context, s *postgres.Store, orders, items, releases []string) error {
		if err := s.LockOrders(ctx, orders); err != nil {
			return err
		}
		reserved, err := s.ReservedItems(ctx, releases)
		if err != nil {
			return err
		}
		if _, err := s.LockItems(ctx, slices.Concat(items, reserved)); err != nil {
			return err
		}
		for _, o := range orders {
			if _, _, err := s.Reservation(ctx, o); err != nil {
				return err
			}
		}
		return nil
	}
	batched := func(ctx context.Context, s *postgres.Store, orders, items, releases []string) error {
		return s.LockBatch(ctx, orders, items, releases)
	}
	for _, batch := range []struct {
		name                    string
		orders, items, releases []string
	}{
		{"reserve", []string{"o1"}, []string{"a"}, nil},
		{"release", []string{"o9"}, nil, []string{"o9"}}, // a only through o9
	} {
		for _, held := range []struct {
			name, sql string
		}{
			{"order", `SELECT pg_advisory_xact_lock(hashtextextended('` + batch.orders[0] + `', 0))`},
			{"item", `SELECT 1 FROM items WHERE id = 'a' FOR UPDATE`},
		} {
			t.Run(batch.name+" with the "+held.name+" locked", func(t *testing.T) {
				ctx := context.Background()
				holder, err := db.Pool.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer holder.Rollback(ctx)
				if _, err := holder.Exec(ctx, held.sql); err != nil {
					t.Fatal(err)
				}
				type outcome struct {
					err       string
					transient bool
					lockOrder bool // LockOrder failed afterwards: it did not know the lock
				}
				var got [2]outcome
				for i, way := range []func(context.Context, *postgres.Store, []string, []string, []string) error{oneAtATime, batched} {
					err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
						hctx, _ := msgpg.WithTxHooks(ctx)
						if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '100ms'`); err != nil {
							t.Fatal(err)
						}
						s := postgres.New(tx)
						err := way(hctx, s, batch.orders, batch.items, batch.releases)
						if err == nil {
							t.Fatal("no error, want a lock timeout")
						}
						got[i] = outcome{err.Error(), msgpg.IsTransient(err), s.LockOrder(hctx, batch.orders[0]) != nil}
						return err
					})
					if err == nil {
						t.Fatal("transaction: err = nil")
					}
				}
				if got[1] != got[0] || !got[1].transient || !strings.Contains(got[1].err, "55P03") {
					t.Errorf("LockBatch: %+v\none statement at a time: %+v\nwant the same transient lock timeout", got[1], got[0])
				}
				want := "postgres: lock items: "
				if held.name == "order" {
					want = "postgres: lock 1 keys: "
				}
				if !strings.HasPrefix(got[1].err, want) {
					t.Errorf("LockBatch: err = %q, want one starting %q", got[1].err, want)
				}
			})
		}
	}
}
