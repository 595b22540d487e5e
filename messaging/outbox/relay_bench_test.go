package outbox_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	pgBefore := backendsCPU(b, db)
	cpuBefore := processCPU()
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
	cpu := processCPU() - cpuBefore
	pg := backendsCPU(b, db).since(pgBefore)
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

// processCPU is the CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// backendCPU is the CPU time of each backend connected to a database.
type backendCPU map[int]time.Duration

// backendsCPU reads the CPU time of db's backends from /proc: zero when
// the server runs elsewhere.
func backendsCPU(b *testing.B, db *testdb.DB) backendCPU {
	b.Helper()
	rows, err := db.Pool.Query(context.Background(), `SELECT pid FROM pg_stat_activity WHERE datname = $1`, db.Name)
	if err != nil {
		b.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		b.Fatal(err)
	}
	out := backendCPU{}
	for _, pid := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		out[pid] = time.Duration(utime+stime) * (time.Second / 100) // USER_HZ
	}
	return out
}

// since sums what each backend used after before (all of it for a
// backend that started since).
func (after backendCPU) since(before backendCPU) time.Duration {
	var d time.Duration
	for pid, t := range after {
		d += t - before[pid]
	}
	return d
}
