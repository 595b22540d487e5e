package api_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mpostgres "github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/messaging/testdb"
	"github.com/purchase-saga/messaging/trace"
	"github.com/purchase-saga/migrations"
	"github.com/purchase-saga/order-service/internal/api"
	"github.com/purchase-saga/order-service/internal/postgres"
	"github.com/purchase-saga/order-service/internal/saga"
)

// placeClients is how many clients post at once, as many as order-service's
// connection pool has connections.
const placeClients = 16

// BenchmarkPlace measures POST /orders alone: placeClients clients post
// b.N single-line orders (50 items, 500 customers) to the API over HTTP,
// each answered once its order and its three outbox rows are committed.
// The saga runs as order-service wires it (a pool of 16 connections, the
// sold-out gate) but without admission control, which would refuse
// orders that no participant ever answers here, and without the relay.
// Besides ns/op (per order) it reports orders/s, the test process's CPU
// per order (API, saga and HTTP clients) and the CPU per order of the
// database's backends. scripts/bench.sh runs it with -benchtime 5000x.
func BenchmarkPlace(b *testing.B) {
	ctx := context.Background()
	db := testdb.New(b, func(ctx context.Context, db *sql.DB) error { return migrations.Up(ctx, db, migrations.Order) })
	for i := range 50 {
		it := postgres.Item{ID: fmt.Sprintf("item-%d", i), Name: "Item", PriceCents: 100, Currency: "EUR", Available: 1 << 40}
		if err := postgres.NewStore(db.Pool).Catalog().Upsert(ctx, it); err != nil {
			b.Fatal(err)
		}
	}
	pool, err := mpostgres.Connect(ctx, db.URL, 16)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	quiet := slog.New(slog.DiscardHandler)
	store := postgres.NewStore(pool)
	gate := &saga.Gate{Catalog: store, Log: quiet}
	gateCtx, stopGate := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = gate.Run(gateCtx) })
	defer func() { stopGate(); wg.Wait() }()
	s := &saga.Saga{Store: store, Currency: "EUR", Timeout: 30 * time.Second, Log: quiet, Gate: gate}
	srv := httptest.NewServer(trace.Middleware((&api.API{Saga: s, Store: store, Log: quiet}).Handler()))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: placeClients}}

	pgBefore := testdb.BackendsCPU(b, pool, db.Name)
	cpuBefore := testdb.ProcessCPU()
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var clients sync.WaitGroup
	for range placeClients {
		clients.Go(func() {
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				if err := postOrder(client, srv.URL, i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	clients.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := testdb.ProcessCPU() - cpuBefore
	pg := testdb.BackendsCPU(b, pool, db.Name).Since(pgBefore)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "orders/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/order")
	b.ReportMetric(float64(pg.Microseconds())/float64(b.N), "pg-cpu-us/order")
}

func postOrder(client *http.Client, url string, i int64) error {
	body := fmt.Sprintf(`{"customer_id":"customer-%d","lines":[{"item_id":"item-%d","quantity":1}]}`, i%500, i%50)
	resp, err := client.Post(url+"/orders", "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST /orders: %d %s", resp.StatusCode, b)
	}
	return nil
}
