package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/purchase-saga/messaging/trace/spantest"
)

// traceOf returns the spans of trace id that c received, as "service: name", sorted.
func traceOf(c *spantest.Collector, id string) []string {
	var out []string
	for _, s := range c.Spans() {
		if s.TraceID == id {
			out = append(out, s.Service+": "+s.Name)
		}
	}
	slices.Sort(out)
	return out
}

// rootSpan returns the span of service named name that c received first.
func rootSpan(c *spantest.Collector, service, name string) (spantest.Span, bool) {
	for _, s := range c.Spans() {
		if s.Service == service && s.Name == name {
			return s, true
		}
	}
	return spantest.Span{}, false
}

// TestAnOrderIsOneTraceAcrossTheServices places one order through the
// three services, built and run as in production, exporting to a
// collector: its request, outbox writes, relay publishes and consumer
// applies in every service are spans of one trace, and the services' log
// lines about it carry that trace's id and the order's id.
func TestAnOrderIsOneTraceAcrossTheServices(t *testing.T) {
	c := spantest.NewCollector(t)
	s := newStack(t, options{env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + c.URL, "OTEL_BSP_SCHEDULE_DELAY=100", "LOG_LEVEL=debug"}})
	s.item("book-1", 1500, 5)
	s.account("alice", 10_000)
	o := s.place("alice", line{"book-1", 1})
	if got := s.settled(o.ID, 30*time.Second); got.Status != "COMPLETED" {
		t.Fatalf("order %+v, want COMPLETED", got)
	}

	want := []string{
		"order-service: POST /orders", "order-service: outbox write",
		"order-service: publish stock", "order-service: publish payment",
		"stock-service: process stock", "stock-service: outbox write", "stock-service: publish stock.success",
		"payment-service: process payment", "payment-service: outbox write", "payment-service: publish payment.success",
		"order-service: process stock.success", "order-service: process payment.success",
	}
	var root spantest.Span
	var got []string
	deadline := time.Now().Add(20 * time.Second)
	for {
		var ok bool
		if root, ok = rootSpan(c, "order-service", "POST /orders"); ok {
			got = traceOf(c, root.TraceID)
			if !slices.ContainsFunc(want, func(w string) bool { return !slices.Contains(got, w) }) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s has spans %q, want at least %q", root.TraceID, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if root.ParentID != "" {
		t.Errorf("POST /orders has parent %s, want the root of a new trace", root.ParentID)
	}

	// The lines about the order carry its trace and saga ids: the request
	// in order-service, the command applied in stock-service.
	s.checkLogLine("order", map[string]any{"msg": "http request", "route": "POST /orders", "status": float64(201)}, root.TraceID, o.ID)
	s.checkLogLine("order", map[string]any{"msg": "order placed"}, root.TraceID, o.ID)
	s.checkLogLine("stock", map[string]any{"msg": "message applied", "topic": "stock"}, root.TraceID, o.ID)
	s.checkLogLine("payment", map[string]any{"msg": "message applied", "topic": "payment"}, root.TraceID, o.ID)
}

// checkLogLine finds in service's log a JSON line with the fields of
// match, and checks that it carries traceID and sagaID.
func (s *stack) checkLogLine(service string, match map[string]any, traceID, sagaID string) {
	s.t.Helper()
	f, err := os.Open(s.svcs[service].logs)
	if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		matches := true
		for k, v := range match {
			matches = matches && line[k] == v
		}
		if !matches || line["saga_id"] != sagaID {
			continue
		}
		if line["trace_id"] != traceID {
			s.t.Errorf("%s log line %s: trace_id %v, want %s", service, sc.Text(), line["trace_id"], traceID)
		}
		return
	}
	s.t.Errorf("%s log has no line %v with saga_id %s:\n%s", service, match, sagaID, strings.TrimSpace(tail(s.svcs[service].logs)))
}
