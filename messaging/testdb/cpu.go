package testdb

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ProcessCPU is the CPU time this process has used, for benchmarks that
// report CPU per operation.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BackendCPU is the CPU time of each backend connected to a database.
type BackendCPU map[int]time.Duration

// BackendsCPU reads, from /proc, the CPU time of the backends connected to
// database (asked through pool): none when the server runs elsewhere.
func BackendsCPU(t testing.TB, pool *pgxpool.Pool, database string) BackendCPU {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT pid FROM pg_stat_activity WHERE datname = $1`, database)
	if err != nil {
		t.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	out := BackendCPU{}
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

// Since sums what each backend used after before (all of it for a backend
// that started since).
func (after BackendCPU) Since(before BackendCPU) time.Duration {
	var d time.Duration
	for pid, t := range after {
		d += t - before[pid]
	}
	return d
}
