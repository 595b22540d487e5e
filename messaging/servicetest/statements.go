package servicetest

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/purchase-saga/messaging/testdb"
)

// Statements counts the statements a pool sent (each query of a batch
// too), for tests that check work is done per batch, not per message, and
// the round trips they took (a batch is one).
type Statements struct {
	mu    sync.Mutex
	sqls  []string
	trips int
}

// CountingPool returns a small pool on db whose statements s counts.
func CountingPool(t testing.TB, db *testdb.DB) (*pgxpool.Pool, *Statements) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	s := &Statements{}
	cfg.MaxConns = 2
	cfg.ConnConfig.Tracer = s
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, s
}

// Reset forgets what was counted.
func (s *Statements) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sqls, s.trips = nil, 0
}

// RoundTrips returns how many round trips the statements since the last
// Reset took: a statement sent alone (BEGIN and COMMIT included) is one, a
// batch of statements is one.
func (s *Statements) RoundTrips() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.trips
}

// Count returns how many statements sent since the last Reset began with
// prefix (after leading white space; case-insensitive).
func (s *Statements) Count(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, sql := range s.sqls {
		if len(sql) >= len(prefix) && strings.EqualFold(sql[:len(prefix)], prefix) {
			n++
		}
	}
	return n
}

// SQL returns the statements sent since the last Reset, in order, their
// white space collapsed.
func (s *Statements) SQL() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.sqls))
	for i, sql := range s.sqls {
		out[i] = strings.Join(strings.Fields(sql), " ")
	}
	return out
}

// Total returns how many statements were sent since the last Reset.
func (s *Statements) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sqls)
}

func (s *Statements) add(sql string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sqls = append(s.sqls, strings.TrimSpace(sql))
}

// TraceQueryStart implements pgx.QueryTracer.
func (s *Statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	s.add(d.SQL)
	s.trip()
	return ctx
}

func (s *Statements) trip() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trips++
}

// TraceQueryEnd implements pgx.QueryTracer.
func (s *Statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchStart implements pgx.BatchTracer.
func (s *Statements) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	s.trip()
	return ctx
}

// TraceBatchQuery implements pgx.BatchTracer: each query of a batch counts.
func (s *Statements) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	s.add(d.SQL)
}

// TraceBatchEnd implements pgx.BatchTracer.
func (s *Statements) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
