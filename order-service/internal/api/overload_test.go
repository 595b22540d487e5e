package api_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/purchase-saga/order-service/internal/admission"
	"github.com/purchase-saga/order-service/internal/api"
)

// When the sagas in flight are at the limit, a new order is refused at
// once with 429, Retry-After and problem details, and nothing is written;
// a repeated request with an Idempotency-Key still gets its order.
func TestOrderOverTheAdmissionLimitIsRefusedWithRetryAfter(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if status, _, body := f.do(http.MethodPost, "/orders", "application/json",
		`{"customer_id":"c1","lines":[{"item_id":"book","quantity":1}]}`, "Idempotency-Key", "k1"); status != http.StatusCreated {
		t.Fatalf("first order: %d %v", status, body)
	}
	full := func(context.Context) (admission.InFlight, error) { return admission.InFlight{Count: 20}, nil }
	f.saga.Admission = admission.New(admission.Config{InitialLimit: 20, MinLimit: 20, MaxLimit: 20, Interval: 5 * time.Millisecond}, full)
	go func() { _ = f.saga.Admission.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for _, n := f.saga.Admission.Limit(); n < 20; _, n = f.saga.Admission.Limit() {
		if time.Now().After(deadline) {
			t.Fatal("the controller never counted the sagas in flight")
		}
		time.Sleep(5 * time.Millisecond)
	}

	status, header, body := f.do(http.MethodPost, "/orders", "application/json", `{"customer_id":"c2","lines":[{"item_id":"book","quantity":1}]}`)
	if status != http.StatusTooManyRequests || body["type"] != api.TypeOverloaded {
		t.Fatalf("order at the limit: %d %v, want 429 %s", status, body, api.TypeOverloaded)
	}
	if n, err := strconv.Atoi(header.Get("Retry-After")); err != nil || n < 1 {
		t.Errorf("Retry-After %q, want a number of seconds", header.Get("Retry-After"))
	}
	var orders int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM orders`).Scan(&orders); err != nil || orders != 1 {
		t.Errorf("%d orders after a refusal (err %v), want 1", orders, err)
	}
	if status, _, body := f.do(http.MethodPost, "/orders", "application/json",
		`{"customer_id":"c1","lines":[{"item_id":"book","quantity":1}]}`, "Idempotency-Key", "k1"); status != http.StatusOK {
		t.Errorf("repeated request with its key at the limit: %d %v, want 200 and its order", status, body)
	}
}
