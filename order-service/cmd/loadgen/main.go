// Command loadgen drives order-service with purchases and measures, from
// orderdb, how many sagas complete per second and how long each took from
// POST /orders to its terminal state. scripts/bench.sh runs it.
//
//	loadgen -mode throughput -duration 60s -concurrency 64
//	loadgen -mode latency -rate 100 -duration 30s
//	loadgen -mode flash -items 5 -units 200 -customers 2000 -concurrency 32 -duration 30s
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

type config struct {
	mode, orderURL, stockURL, paymentURL, token, dbURL, out string
	analyze                                                 string
	rate                                                    float64
	duration, warmup                                        time.Duration
	concurrency, items, customers, units                    int
	cost                                                    costConfig
}

func main() {
	var c config
	flag.StringVar(&c.mode, "mode", "throughput", "throughput (each client places an order and waits for its end), latency (open loop at -rate) or flash (a flash sale: -items × -units for -customers buyers)")
	flag.StringVar(&c.orderURL, "order-url", "http://127.0.0.1:8080", "order-service")
	flag.StringVar(&c.stockURL, "stock-url", "http://127.0.0.1:8081", "stock-service")
	flag.StringVar(&c.paymentURL, "payment-url", "http://127.0.0.1:8082", "payment-service")
	flag.StringVar(&c.token, "token", os.Getenv("ADMIN_TOKEN"), "admin token")
	flag.StringVar(&c.dbURL, "order-db", os.Getenv("ORDER_DATABASE_URL"), "orderdb URL, to read outcomes")
	flag.StringVar(&c.out, "out", "", "write the result as JSON to this file")
	flag.Float64Var(&c.rate, "rate", 100, "latency mode: sagas per second")
	flag.DurationVar(&c.duration, "duration", 60*time.Second, "measured window")
	flag.DurationVar(&c.warmup, "warmup", 5*time.Second, "load before the measured window")
	flag.StringVar(&c.analyze, "analyze", "", "comma-separated database URLs to ANALYZE near the end of the warm-up (flash: after seeding), as autovacuum would have on an established deployment")
	flag.IntVar(&c.concurrency, "concurrency", 64, "throughput mode: clients")
	flag.IntVar(&c.items, "items", 50, "distinct items")
	flag.IntVar(&c.customers, "customers", 500, "distinct customers (flash: buyers)")
	flag.IntVar(&c.units, "units", 200, "flash mode: units of each item")
	c.cost.register(flag.CommandLine)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	if c.dbURL == "" {
		return fmt.Errorf("-order-db (or ORDER_DATABASE_URL) is required to read outcomes")
	}
	pool, err := pgxpool.New(ctx, c.dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	cl := &client{http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: 30 * time.Second}, c: c}
	if c.mode == "flash" {
		return flash(ctx, c, pool, cl)
	}
	prefix := fmt.Sprintf("b%d", time.Now().Unix())
	if err := cl.seed(ctx, prefix); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Fprintf(os.Stderr, "seeded %d items and %d accounts (%s); %s load for %v after %v warm-up\n",
		c.items, c.customers, prefix, c.mode, c.duration, c.warmup)

	var placed, failedPosts atomic.Int64
	start := time.Now()
	from, to := start.Add(c.warmup), start.Add(c.warmup+c.duration)
	loadCtx, stopLoad := context.WithDeadline(ctx, to)
	defer stopLoad()
	probe, err := startCost(ctx, c.cost, from, to)
	if err != nil {
		return err
	}
	analyzed := make(chan error, 1)
	time.AfterFunc(c.warmup*4/5, func() { analyzed <- analyze(ctx, c.analyze) })
	var wg sync.WaitGroup
	wait := c.mode == "throughput"
	post := func(i int64) {
		err := cl.place(loadCtx, wait, fmt.Sprintf("%s-c%d", prefix, i%int64(c.customers)), fmt.Sprintf("%s-i%d", prefix, i%int64(c.items)))
		if err != nil && loadCtx.Err() == nil {
			failedPosts.Add(1)
			return
		}
		placed.Add(1)
	}
	var seq atomic.Int64
	switch c.mode {
	case "throughput":
		for range c.concurrency {
			wg.Go(func() {
				for loadCtx.Err() == nil {
					post(seq.Add(1))
				}
			})
		}
	case "latency":
		tick := time.NewTicker(time.Duration(float64(time.Second) / c.rate))
		defer tick.Stop()
		wg.Go(func() {
			for {
				select {
				case <-loadCtx.Done():
					return
				case <-tick.C:
					wg.Go(func() { post(seq.Add(1)) })
				}
			}
		})
	default:
		return fmt.Errorf("unknown -mode %q", c.mode)
	}
	<-loadCtx.Done()
	wg.Wait()
	if err := <-analyzed; err != nil {
		return err
	}
	// Let the last sagas finish before reading the outcome.
	drainUntil := time.Now().Add(30 * time.Second)
	for time.Now().Before(drainUntil) {
		var pending int64
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM orders WHERE status = 'PENDING' AND customer_id LIKE $1`, prefix+"-%").Scan(&pending); err != nil {
			return err
		}
		if pending == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	res, err := measure(ctx, pool, prefix, from, to)
	if err != nil {
		return err
	}
	if probe != nil {
		if res.Cost, err = probe.result(res.CompletedInWin); err != nil {
			return err
		}
	}
	res.Mode, res.TargetRate, res.Concurrency = c.mode, c.rate, c.concurrency
	res.Posted, res.FailedPosts = placed.Load(), failedPosts.Load()
	if c.mode == "throughput" {
		res.TargetRate = 0
	} else {
		res.Concurrency = 0
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	fmt.Println(string(b))
	if res.Cost != nil {
		res.Cost.print(os.Stdout)
	}
	if c.out != "" {
		return os.WriteFile(c.out, append(b, '\n'), 0o644)
	}
	return nil
}

type result struct {
	Mode            string  `json:"mode"`
	TargetRate      float64 `json:"target_rate_per_s,omitempty"`
	Concurrency     int     `json:"concurrency,omitempty"`
	WindowSeconds   float64 `json:"window_s"`
	Posted          int64   `json:"posted"`
	FailedPosts     int64   `json:"failed_posts"`
	PlacedInWindow  int64   `json:"placed_in_window"`
	CompletedInWin  int64   `json:"completed_in_window"`
	FailedInWindow  int64   `json:"failed_in_window"`
	StillPending    int64   `json:"still_pending"`
	CompletedPerSec float64 `json:"completed_per_s"`
	P50ms           float64 `json:"p50_ms"`
	P95ms           float64 `json:"p95_ms"`
	P99ms           float64 `json:"p99_ms"`
	MaxMs           float64 `json:"max_ms"`
	// Cost is what each completed saga cost (-cost-server-db).
	Cost *costResult `json:"cost,omitempty"`
}

// measure reads the outcome of the orders placed in [from, to): how many
// completed within the window, and the time each took to become terminal.
func measure(ctx context.Context, pool *pgxpool.Pool, prefix string, from, to time.Time) (result, error) {
	r := result{WindowSeconds: to.Sub(from).Seconds()}
	err := pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE created_at >= $2 AND created_at < $3),
		       count(*) FILTER (WHERE status = 'COMPLETED' AND updated_at >= $2 AND updated_at < $3),
		       count(*) FILTER (WHERE status = 'FAILED' AND updated_at >= $2 AND updated_at < $3),
		       count(*) FILTER (WHERE status = 'PENDING'),
		       COALESCE(percentile_cont(0.50) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - created_at)) FILTER (WHERE status <> 'PENDING' AND created_at >= $2 AND created_at < $3), 0),
		       COALESCE(percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - created_at)) FILTER (WHERE status <> 'PENDING' AND created_at >= $2 AND created_at < $3), 0),
		       COALESCE(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - created_at)) FILTER (WHERE status <> 'PENDING' AND created_at >= $2 AND created_at < $3), 0),
		       COALESCE(max(extract(epoch FROM updated_at - created_at)) FILTER (WHERE status <> 'PENDING' AND created_at >= $2 AND created_at < $3), 0)
		FROM orders WHERE customer_id LIKE $1`, prefix+"-%", from, to).
		Scan(&r.PlacedInWindow, &r.CompletedInWin, &r.FailedInWindow, &r.StillPending, &r.P50ms, &r.P95ms, &r.P99ms, &r.MaxMs)
	if err != nil {
		return r, fmt.Errorf("measure: %w", err)
	}
	r.CompletedPerSec = float64(r.CompletedInWin) / r.WindowSeconds
	for _, v := range []*float64{&r.P50ms, &r.P95ms, &r.P99ms, &r.MaxMs} {
		*v *= 1000
	}
	return r, nil
}

type client struct {
	http *http.Client
	c    config
}

func (cl *client) do(ctx context.Context, method, url string, body any, admin bool) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if admin {
		req.Header.Set("Authorization", "Bearer "+cl.c.token)
	}
	resp, err := cl.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d", method, url, resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// seed creates items with more stock and accounts with more money than
// the run can use, so that every saga completes.
func (cl *client) seed(ctx context.Context, prefix string) error {
	for i := range cl.c.items {
		id := fmt.Sprintf("%s-i%d", prefix, i)
		if _, err := cl.do(ctx, "PUT", cl.c.stockURL+"/items/"+id, map[string]any{"name": id, "price_cents": 100, "currency": "EUR"}, true); err != nil {
			return err
		}
		if _, err := cl.do(ctx, "POST", cl.c.stockURL+"/items/"+id+"/restock", map[string]any{"quantity": 10_000_000}, true); err != nil {
			return err
		}
	}
	for i := range cl.c.customers {
		id := fmt.Sprintf("%s-c%d", prefix, i)
		if _, err := cl.do(ctx, "PUT", cl.c.paymentURL+"/accounts/"+id, nil, true); err != nil {
			return err
		}
		if _, err := cl.do(ctx, "POST", cl.c.paymentURL+"/accounts/"+id+"/deposits", map[string]any{"amount_cents": 1_000_000_000}, true); err != nil {
			return err
		}
	}
	// Wait until the catalog knows the last item.
	last := fmt.Sprintf("%s-i%d", prefix, cl.c.items-1)
	for range 600 {
		if code, _ := cl.do(ctx, "GET", cl.c.orderURL+"/catalog/"+last, nil, false); code == 200 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("item %s never reached the catalog", last)
}

// place posts an order; with wait, the answer comes when it is terminal.
func (cl *client) place(ctx context.Context, wait bool, customer, item string) error {
	url := cl.c.orderURL + "/orders"
	if wait {
		url += "?wait=30s"
	}
	_, err := cl.do(ctx, "POST", url, map[string]any{
		"customer_id": customer, "lines": []map[string]any{{"item_id": item, "quantity": 1}}}, false)
	return err
}

// seedStock creates items with units each and customers able to pay for
// one unit many times over.
func (cl *client) seedStock(ctx context.Context, prefix string, items int, units int64, customers int) error {
	for i := range items {
		id := fmt.Sprintf("%s-i%d", prefix, i)
		if _, err := cl.do(ctx, "PUT", cl.c.stockURL+"/items/"+id, map[string]any{"name": id, "price_cents": 100, "currency": "EUR"}, true); err != nil {
			return err
		}
		if _, err := cl.do(ctx, "POST", cl.c.stockURL+"/items/"+id+"/restock", map[string]any{"quantity": units}, true); err != nil {
			return err
		}
	}
	for i := range customers {
		id := fmt.Sprintf("%s-c%d", prefix, i)
		if _, err := cl.do(ctx, "PUT", cl.c.paymentURL+"/accounts/"+id, nil, true); err != nil {
			return err
		}
		if _, err := cl.do(ctx, "POST", cl.c.paymentURL+"/accounts/"+id+"/deposits", map[string]any{"amount_cents": 10_000}, true); err != nil {
			return err
		}
	}
	last := fmt.Sprintf("%s-i%d", prefix, items-1)
	for range 600 {
		if code, _ := cl.do(ctx, "GET", cl.c.orderURL+"/catalog/"+last, nil, false); code == 200 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("item %s never reached the catalog", last)
}

// post places a single-unit order of item for customer with an
// Idempotency-Key and returns the status of the answer and its
// Retry-After (zero when none).
func (cl *client) post(ctx context.Context, customer, item, key string) (int, time.Duration, error) {
	b, _ := json.Marshal(map[string]any{"customer_id": customer, "lines": []map[string]any{{"item_id": item, "quantity": 1}}})
	req, err := http.NewRequestWithContext(ctx, "POST", cl.c.orderURL+"/orders", bytes.NewReader(b))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := cl.http.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	seconds, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	return resp.StatusCode, time.Duration(seconds) * time.Second, nil
}
