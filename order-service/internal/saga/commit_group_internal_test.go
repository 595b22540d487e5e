package saga

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/purchase-saga/messaging/outbox"
	"github.com/purchase-saga/messaging/testdb"
	"github.com/purchase-saga/migrations"
	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
)

// A group sends its orders and their messages in one round trip; when an
// idempotency key of the group turns out to be taken, that order alone is
// refused, and neither it nor its messages are written.
func TestGroupWithATakenKeyWritesTheOthersWithTheirMessages(t *testing.T) {
	db := testdb.New(t, func(ctx context.Context, db *sql.DB) error { return migrations.Up(ctx, db, migrations.Order) })
	ctx := context.Background()
	s := &Saga{Store: postgres.NewStore(db.Pool), Currency: "EUR", Timeout: time.Minute, Log: slog.Default()}
	placed := func(key string) *placement {
		t.Helper()
		o, err := order.New(uuid.NewString(), "c1", []order.Line{{ItemID: "pen", Quantity: 1, UnitPriceCents: 100}}, "EUR", s.steps().Names(), s.now(), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		r, err := outbox.NewRecord("events", "test.placed", o.ID, map[string]string{"key": key})
		if err != nil {
			t.Fatal(err)
		}
		return &placement{order: postgres.NewOrder{Order: o, IdempotencyKey: key, RequestHash: "h"}, records: []outbox.Record{r}}
	}
	if err := s.writeGroup(ctx, []*placement{placed("taken")}); err != nil {
		t.Fatal(err)
	}
	group := []*placement{placed("a"), placed("taken"), placed("")}
	if err := s.writeGroup(ctx, group); err != nil {
		t.Fatal(err)
	}
	for i, pl := range group {
		var orders, messages int
		if err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM orders WHERE id::text = $1), (SELECT count(*) FROM outbox WHERE key = $1)`,
			pl.order.Order.ID).Scan(&orders, &messages); err != nil {
			t.Fatal(err)
		}
		refused := pl.order.IdempotencyKey == "taken"
		switch {
		case refused && !errors.Is(pl.outcome(), postgres.ErrDuplicateKey):
			t.Errorf("order %d with a taken key: outcome %v, want ErrDuplicateKey", i, pl.outcome())
		case refused && (orders != 0 || messages != 0):
			t.Errorf("order %d with a taken key: %d orders and %d messages written, want none", i, orders, messages)
		case !refused && (pl.outcome() != nil || orders != 1 || messages != 1):
			t.Errorf("order %d: outcome %v, %d orders and %d messages written, want nil, 1 and 1", i, pl.outcome(), orders, messages)
		}
	}
}
