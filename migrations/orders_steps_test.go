package migrations_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/purchase-saga/messaging/testdb"
	"github.com/purchase-saga/migrations"
)

// The orders' step columns move into the steps object (00002) and back
// (its Down) without losing a status, a reason or a time.
func TestOrderStepsMoveIntoOneObjectAndBack(t *testing.T) {
	ctx := context.Background()
	db := testdb.New(t, nil)
	sqlDB := stdlib.OpenDBFromPool(db.Pool)
	defer sqlDB.Close()
	fsys, err := migrations.FS(migrations.Order)
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	stockAt := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	paymentAt := time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)
	if _, err := db.Pool.Exec(ctx, `INSERT INTO orders (id, customer_id, lines, amount_cents, currency, status,
		failure_reason, stock_status, stock_reason, stock_updated_at, payment_status, payment_reason,
		payment_updated_at, deadline)
		VALUES ('01900000-0000-7000-8000-000000000001', 'c1', '[]', 500, 'EUR', 'FAILED', 'insufficient_funds',
			'COMPENSATED', '', $1, 'FAILED', 'insufficient_funds', $2, now())`, stockAt, paymentAt); err != nil {
		t.Fatal(err)
	}
	// Another session time zone must not change the times written.
	if _, err := db.Pool.Exec(ctx, `ALTER DATABASE `+db.Name+` SET timezone = 'America/New_York'`); err != nil {
		t.Fatal(err)
	}
	db.Pool.Reset()
	if err := migrations.Up(ctx, sqlDB, migrations.Order); err != nil {
		t.Fatal(err)
	}

	type step struct {
		Status    string    `json:"status"`
		Reason    string    `json:"reason"`
		UpdatedAt time.Time `json:"updated_at"`
	}
	var raw []byte
	if err := db.Pool.QueryRow(ctx, `SELECT steps FROM orders`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var steps map[string]step
	if err := json.Unmarshal(raw, &steps); err != nil {
		t.Fatalf("steps %s: %v", raw, err)
	}
	want := map[string]step{
		"stock":   {Status: "COMPENSATED", UpdatedAt: stockAt},
		"payment": {Status: "FAILED", Reason: "insufficient_funds", UpdatedAt: paymentAt},
	}
	if len(steps) != len(want) {
		t.Errorf("steps %s, want %v", raw, want)
	}
	for name, w := range want {
		if got := steps[name]; got.Status != w.Status || got.Reason != w.Reason || !got.UpdatedAt.Equal(w.UpdatedAt) ||
			got.UpdatedAt.Location() != time.UTC {
			t.Errorf("step %s %+v, want %+v in UTC (steps %s)", name, got, w, raw)
		}
	}
	var oldColumns int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns
		WHERE table_name = 'orders' AND column_name LIKE ANY (ARRAY['stock\_%', 'payment\_%'])`).Scan(&oldColumns); err != nil || oldColumns != 0 {
		t.Errorf("%d step columns left after the move (err %v), want 0", oldColumns, err)
	}

	if _, err := p.DownTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	var stockStatus, paymentReason string
	var gotStockAt, gotPaymentAt time.Time
	if err := db.Pool.QueryRow(ctx, `SELECT stock_status, payment_reason, stock_updated_at, payment_updated_at FROM orders`).
		Scan(&stockStatus, &paymentReason, &gotStockAt, &gotPaymentAt); err != nil {
		t.Fatal(err)
	}
	if stockStatus != "COMPENSATED" || paymentReason != "insufficient_funds" || !gotStockAt.Equal(stockAt) || !gotPaymentAt.Equal(paymentAt) {
		t.Errorf("after Down: stock %s at %v, payment reason %q at %v; want the columns as they were",
			stockStatus, gotStockAt, paymentReason, gotPaymentAt)
	}
}
