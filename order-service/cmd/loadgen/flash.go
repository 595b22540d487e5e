package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// flashResult is what the flash-sale benchmark (SPEC section 11 and 12)
// measured.
type flashResult struct {
	Mode            string           `json:"mode"`
	Items           int              `json:"items"`
	UnitsPerItem    int              `json:"units_per_item"`
	Buyers          int              `json:"buyers"`
	Clients         int              `json:"clients"`
	LoadSeconds     float64          `json:"load_s"`
	UnitsSold       int64            `json:"units_sold"`
	SellOutSeconds  float64          `json:"time_to_sell_out_s"` // -1: not sold out
	Answers         map[string]int64 `json:"answers"`            // by status: 201, 409, 429, 503, error
	PostP50ms       float64          `json:"post_p50_ms"`
	PostP99ms       float64          `json:"post_p99_ms"`
	RefusalP99ms    float64          `json:"refusal_p99_ms"` // 409 and 429/503 answers
	Orders          map[string]int64 `json:"orders"`         // by status and failure reason
	SettledSeconds  float64          `json:"settled_after_load_s"`
	TimeoutFailures int64            `json:"orders_failed_by_timeout"`
}

// flash runs the flash sale: few items with limited stock, many buyers
// who can all pay, clients posting single-unit orders as fast as the
// answers come; each buyer tries until placed or told sold out, waiting
// as long as a 429 or 503 asks (Retry-After) before trying again.
func flash(ctx context.Context, c config, pool *pgxpool.Pool, cl *client) error {
	prefix := fmt.Sprintf("f%d", time.Now().Unix())
	if err := cl.seedStock(ctx, prefix, c.items, int64(c.units), c.customers); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if err := analyze(ctx, c.analyze); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "flash sale: %d items × %d units, %d buyers, %d clients for %v\n", c.items, c.units, c.customers, c.concurrency, c.duration)
	buyers := make(chan int, c.customers)
	for i := range c.customers {
		buyers <- i
	}
	close(buyers)
	var mu sync.Mutex
	answers := map[string]int64{}
	var all, refusals []time.Duration
	start := time.Now()
	loadCtx, stop := context.WithTimeout(ctx, c.duration)
	defer stop()
	var wg sync.WaitGroup
	for range c.concurrency {
		wg.Go(func() {
			for b := range buyers {
				customer := fmt.Sprintf("%s-c%d", prefix, b)
				item := fmt.Sprintf("%s-i%d", prefix, rand.IntN(c.items))
				for loadCtx.Err() == nil {
					t0 := time.Now()
					code, retryAfter, err := cl.post(loadCtx, customer, item, customer)
					d := time.Since(t0)
					if loadCtx.Err() != nil {
						return
					}
					kind := fmt.Sprint(code)
					if err != nil {
						kind = "error"
					}
					mu.Lock()
					answers[kind]++
					all = append(all, d)
					if code == http.StatusConflict || code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
						refusals = append(refusals, d)
					}
					mu.Unlock()
					if code == http.StatusCreated || code == http.StatusOK || code == http.StatusConflict {
						break // placed, or sold out: the next buyer
					}
					// Told to come back later: as a well-behaved client does.
					select {
					case <-loadCtx.Done():
					case <-time.After(retryAfter):
					}
				}
			}
		})
	}
	wg.Wait()
	loadEnd := time.Now()
	settled, err := waitSettled(ctx, pool, prefix, 120*time.Second)
	if err != nil {
		return err
	}
	r := flashResult{Mode: "flash", Items: c.items, UnitsPerItem: c.units, Buyers: c.customers, Clients: c.concurrency,
		LoadSeconds: loadEnd.Sub(start).Seconds(), Answers: answers, SettledSeconds: settled.Sub(loadEnd).Seconds(),
		Orders: map[string]int64{}, SellOutSeconds: -1}
	r.PostP50ms, r.PostP99ms = percentileMs(all, 0.50), percentileMs(all, 0.99)
	r.RefusalP99ms = percentileMs(refusals, 0.99)
	if err := r.readOrders(ctx, pool, prefix, start, c.items*c.units); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	fmt.Println(string(b))
	if c.out != "" {
		return os.WriteFile(c.out, append(b, '\n'), 0o644)
	}
	return nil
}

// readOrders reads units sold, the time the last unit sold, and the
// orders by outcome.
func (r *flashResult) readOrders(ctx context.Context, pool *pgxpool.Pool, prefix string, start time.Time, units int) error {
	var lastSale *time.Time
	err := pool.QueryRow(ctx, `SELECT coalesce(sum((l->>'quantity')::bigint), 0), max(o.updated_at)
		FROM orders o, jsonb_array_elements(o.lines) AS l WHERE o.customer_id LIKE $1 AND o.status = 'COMPLETED'`,
		prefix+"-%").Scan(&r.UnitsSold, &lastSale)
	if err != nil {
		return fmt.Errorf("units sold: %w", err)
	}
	if r.UnitsSold >= int64(units) && lastSale != nil {
		r.SellOutSeconds = lastSale.Sub(start).Seconds()
	}
	rows, err := pool.Query(ctx, `SELECT status, failure_reason, count(*) FROM orders WHERE customer_id LIKE $1 GROUP BY 1, 2`, prefix+"-%")
	if err != nil {
		return fmt.Errorf("orders by outcome: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var status, reason string
		var n int64
		if err := rows.Scan(&status, &reason, &n); err != nil {
			return err
		}
		r.Orders[strings.TrimSpace(status+" "+reason)] = n
		if reason == "timeout" {
			r.TimeoutFailures += n
		}
	}
	return rows.Err()
}

// waitSettled waits until every order of the run is terminal with no step
// pending or compensating, and returns when that was first seen.
func waitSettled(ctx context.Context, pool *pgxpool.Pool, prefix string, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		var open int64
		err := pool.QueryRow(ctx, `SELECT count(*) FROM orders WHERE customer_id LIKE $1 AND (status = 'PENDING'
			OR jsonb_path_exists(steps, '$.* ? (@.status == "PENDING" || @.status == "COMPENSATING")'))
			AND NOT (status = 'COMPLETED')`, prefix+"-%").Scan(&open)
		if err != nil {
			return time.Time{}, err
		}
		if open == 0 {
			return time.Now(), nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("%d orders not settled %v after the load", open, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func percentileMs(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[min(len(s)-1, int(p*float64(len(s))))].Microseconds()) / 1000
}
