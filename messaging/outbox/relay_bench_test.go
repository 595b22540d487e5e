package outbox_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/outbox"
	"github.com/purchase-saga/messaging/testbroker"
	"github.com/purchase-saga/messaging/testdb"
)

// BenchmarkRelayDrain measures the relay alone: b.N committed rows (of
// 1,000 keys, written by outbox.Write as the services write them) wait in
// the outbox; the timer runs from the relay's start until it has
// published them all to a broker of six partitions. The relay and its
// writer are configured as the services configure theirs. Besides ns/op
// (per row) it reports rows/s, the test process's CPU per row (relay and
// the in-process broker) and the CPU per row of the database's backends.
// scripts/bench.sh runs it with -benchtime 100000x.
func BenchmarkRelayDrain(b *testing.B) {
	ctx := context.Background()
	db := testdb.New(b, migrate)
	br := testbroker.New(b, 6, events)
	fillOutbox(b, db.Pool, b.N)

	w := broker.NewBoundedWriter(br.Addrs, nil, 5*time.Second)
	defer w.Close()
	var published atomic.Int64
	all := make(chan struct{})
	relay, err := outbox.NewRelay(outbox.RelayConfig{DatabaseURL: db.URL, Publisher: w, Lease: 5 * time.Second,
		Logger: slog.New(slog.DiscardHandler), // a log line would split the result line
		OnPublished: func(n int) {
			if published.Add(int64(n)) == int64(b.N) {
				close(all)
			}
		}})
	if err != nil {
		b.Fatal(err)
	}
	pgBefore := testdb.BackendsCPU(b, db.Pool, db.Name)
	cpuBefore := testdb.ProcessCPU()
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	wg.Go(func() { _ = relay.Run(runCtx) })
	select {
	case <-all:
	case <-time.After(10 * time.Minute):
		b.Fatalf("published %d of %d rows in 10 minutes", published.Load(), b.N)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := testdb.ProcessCPU() - cpuBefore
	pg := testdb.BackendsCPU(b, db.Pool, db.Name).Since(pgBefore)
	stop()
	wg.Wait()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/row")
	b.ReportMetric(float64(pg.Microseconds())/float64(b.N), "pg-cpu-us/row")
}

// fillOutbox commits n rows, 1,000 to a transaction.
func fillOutbox(b *testing.B, pool *pgxpool.Pool, n int) {
	b.Helper()
	ctx := context.Background()
	for done := 0; done < n; {
		size := min(1000, n-done)
		records := make([]outbox.Record, size)
		for i := range records {
			records[i] = benchRecord(b, done+i)
		}
		if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return outbox.Write(ctx, tx, records...) }); err != nil {
			b.Fatal(err)
		}
		done += size
	}
}

func benchRecord(b *testing.B, seq int) outbox.Record {
	key := fmt.Sprintf("01900000-0000-7000-8000-%012d", seq%1000)
	r, err := outbox.NewRecord(events, "test.event", key, map[string]any{"seq": seq, "customer_id": "customer-42", "amount_cents": 1200, "currency": "EUR"})
	if err != nil {
		b.Fatal(err)
	}
	return r
}
