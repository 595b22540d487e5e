package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"testing"
	"time"

	"github.com/purchase-saga/messaging/processtest"
	"github.com/purchase-saga/messaging/servicetest"
)

// expectMetric waits until service's /metrics has name{match} (summed
// over its series) satisfying ok, with a help text.
func (s *stack) expectMetric(service, name string, match map[string]string, want string, ok func(float64) bool) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, found := servicetest.Scrape(s.t, s.url(service, "")).Metric(name, match)
		if found && ok(got.Value) {
			if got.Help == "" {
				s.t.Errorf("%s: %s has no help text", service, name)
			}
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: %s%v = %v (present: %v), want %s", service, name, match, got.Value, found, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func is(want float64) func(float64) bool { return func(v float64) bool { return v == want } }

func atLeast(want float64) func(float64) bool { return func(v float64) bool { return v >= want } }

// The three services' /metrics, scraped over HTTP: the series an operator
// needs exist at zero before their first event and move when it happens.
func TestMetricsAnOperatorNeeds(t *testing.T) {
	s := newStack(t, options{})
	type m = map[string]string

	// Before any order.
	for _, c := range []struct {
		name  string
		match m
	}{
		{"saga_orders_ended_total", m{"status": "FAILED", "reason": "insufficient_funds"}},
		{"saga_orders_ended_total", m{"status": "FAILED", "reason": "timeout"}},
		{"saga_compensations_sent_total", m{"step": "stock"}},
		{"saga_compensations_done_total", m{"step": "stock"}},
		{"saga_compensations_sent_total", m{"step": "payment"}},
		{"saga_orders_sold_out_total", nil},
		{"saga_orders_spoken_for_total", nil},
		{"saga_admission_refused_total", nil},
		{"saga_http_requests_total", m{"route": "POST /orders", "code": "2xx"}},
		{"saga_http_requests_total", m{"route": "POST /orders", "code": "4xx"}},
		{"saga_consumer_messages_total", m{"topic": "stock.success"}},
		{"saga_consumer_dead_letters_total", m{"topic": "payment.dlt", "reason": "poison"}},
	} {
		s.expectMetric("order", c.name, c.match, "0 before any order", is(0))
	}
	s.expectMetric("order", "saga_admission_limit", nil, "the initial limit, 200", is(200))
	s.expectMetric("order", "saga_admission_target_seconds", nil, "ADMISSION_TARGET, 1s", is(1))
	for _, svc := range []string{"order", "stock", "payment"} {
		s.expectMetric(svc, "saga_build_info", m{"service": svc + "-service"}, "1", is(1))
		s.expectMetric(svc, "saga_outbox_relay_leader", nil, "1 (the only instance leads)", is(1))
		s.expectMetric(svc, "saga_db_pool_max_conns", nil, "DB_MAX_CONNS, 16", is(16))
		s.expectMetric(svc, "saga_outbox_pending_rows", nil, "a figure", atLeast(0))
	}
	s.expectMetric("order", "saga_consumer_lag", m{"group": "order-service-catalog", "topic": "items"}, "a figure", atLeast(0))
	s.expectMetric("order", "saga_dlt_records", m{"topic": "order.dlt"}, "0", is(0))
	s.expectMetric("stock", "saga_consumer_lag", m{"group": "stock-service-compensation", "topic": "stock.compensation"}, "0", is(0))
	s.expectMetric("payment", "saga_dlt_records", m{"topic": "payment.dlt"}, "0", is(0))

	// A payment refused: the order fails for insufficient funds, the
	// reservation is released, and the refusal sits in payment.dlt.
	s.item("chair", 5000, 3)
	s.account("carol", 1000)
	o := s.place("carol", line{"chair", 1})
	if got := s.settled(o.ID, 30*time.Second); got.FailureReason != "insufficient_funds" {
		t.Fatalf("order %+v, want FAILED insufficient_funds", got)
	}
	s.expectMetric("order", "saga_orders_ended_total", m{"status": "FAILED", "reason": "insufficient_funds"}, "1", is(1))
	s.expectMetric("order", "saga_compensations_sent_total", m{"step": "stock"}, "1", is(1))
	s.expectMetric("order", "saga_compensations_done_total", m{"step": "stock"}, "1", is(1))
	s.expectMetric("order", "saga_compensations_sent_total", m{"step": "payment"}, "0", is(0))
	s.expectMetric("order", "saga_http_requests_total", m{"route": "POST /orders", "code": "2xx"}, "1", is(1))
	s.expectMetric("order", "saga_http_request_duration_seconds", m{"route": "POST /orders", "code": "2xx"}, "1 observed", is(1))
	s.expectMetric("payment", "saga_dlt_records", m{"topic": "payment.dlt"}, "1 (the refusal)", is(1))
	s.expectMetric("stock", "saga_http_requests_total", m{"route": "PUT /items/{id}", "code": "2xx"}, "1", is(1))
	s.expectMetric("stock", "saga_consumer_messages_total", m{"topic": "stock"}, "1", is(1))

	// Sold out: refused at once, and counted.
	if code := s.call("POST", s.url("order", "/orders"), map[string]any{"customer_id": "carol", "lines": []line{{"chair", 4}}}, false, nil); code != 409 {
		t.Fatalf("order for 4 of 3 chairs: %d, want 409", code)
	}
	s.expectMetric("order", "saga_orders_sold_out_total", nil, "1", is(1))
	s.expectMetric("order", "saga_http_requests_total", m{"route": "POST /orders", "code": "4xx"}, "1", is(1))

	checkDashboard(t, s)
}

// dashboardMetric finds the metric names in a PromQL expression.
var dashboardMetric = regexp.MustCompile(`\bsaga_[a-zA-Z0-9_]+`)

// checkDashboard checks that every metric the Grafana dashboard queries
// is one the services export.
func checkDashboard(t *testing.T, s *stack) {
	t.Helper()
	exported := map[string]bool{}
	for _, svc := range []string{"order", "stock", "payment"} {
		for name := range servicetest.Scrape(t, s.url(svc, "")).SampleNames() {
			exported[name] = true
		}
	}
	root := processtest.WorkspaceRoot(t)
	raw, err := os.ReadFile(filepath.Join(root, "deploy", "grafana", "dashboards", "purchase-saga.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dashboard any
	if err := json.Unmarshal(raw, &dashboard); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	var exprs []string
	collectExprs(dashboard, &exprs)
	if len(exprs) < 10 {
		t.Fatalf("the dashboard has %d queries, want at least 10", len(exprs))
	}
	unknown := map[string]bool{}
	for _, e := range exprs {
		names := dashboardMetric.FindAllString(e, -1)
		if len(names) == 0 {
			t.Errorf("dashboard query %q names no saga_ metric", e)
		}
		for _, n := range names {
			if !exported[n] {
				unknown[n] = true
			}
		}
	}
	if len(unknown) > 0 {
		var names []string
		for n := range unknown {
			names = append(names, n)
		}
		sort.Strings(names)
		t.Errorf("the dashboard queries metrics no service exports: %v", names)
	}
}

// collectExprs appends every "expr" string under v.
func collectExprs(v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if e, ok := x.(string); ok && k == "expr" {
				*out = append(*out, e)
				continue
			}
			collectExprs(x, out)
		}
	case []any:
		for _, x := range v {
			collectExprs(x, out)
		}
	}
}
