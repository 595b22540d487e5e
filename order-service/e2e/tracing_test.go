package e2e

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// exported is a span as a collector received it.
type exported struct {
	service, name, traceID, spanID, parentID string
}

// collector is an OTLP/HTTP traces endpoint that keeps every span posted
// to /v1/traces.
type collector struct {
	url   string
	mu    sync.Mutex
	spans []exported
}

func newCollector(t *testing.T) *collector {
	t.Helper()
	c := &collector{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		var req collectortrace.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(body, &req)
		}
		if r.URL.Path != "/v1/traces" || err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, rs := range req.ResourceSpans {
			service := ""
			for _, a := range rs.GetResource().GetAttributes() {
				if a.Key == "service.name" {
					service = a.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					c.spans = append(c.spans, exported{service: service, name: s.Name, traceID: hex.EncodeToString(s.TraceId),
						spanID: hex.EncodeToString(s.SpanId), parentID: hex.EncodeToString(s.ParentSpanId)})
				}
			}
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(srv.Close)
	c.url = srv.URL
	return c
}

// trace returns the spans of trace id, as "service: name", sorted.
func (c *collector) trace(id string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, s := range c.spans {
		if s.traceID == id {
			out = append(out, s.service+": "+s.name)
		}
	}
	slices.Sort(out)
	return out
}

// find returns the first span of service named name.
func (c *collector) find(service, name string) (exported, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.spans {
		if s.service == service && s.name == name {
			return s, true
		}
	}
	return exported{}, false
}

// TestAnOrderIsOneTraceAcrossTheServices places one order through the
// three services, built and run as in production, exporting to a
// collector: its request, outbox writes, relay publishes and consumer
// applies in every service are spans of one trace, and the services' log
// lines about it carry that trace's id and the order's id.
func TestAnOrderIsOneTraceAcrossTheServices(t *testing.T) {
	c := newCollector(t)
	s := newStack(t, options{env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + c.url, "OTEL_BSP_SCHEDULE_DELAY=100", "LOG_LEVEL=debug"}})
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
	var root exported
	var got []string
	deadline := time.Now().Add(20 * time.Second)
	for {
		var ok bool
		if root, ok = c.find("order-service", "POST /orders"); ok {
			got = c.trace(root.traceID)
			if !slices.ContainsFunc(want, func(w string) bool { return !slices.Contains(got, w) }) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s has spans %q, want at least %q", root.traceID, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if root.parentID != "" {
		t.Errorf("POST /orders has parent %s, want the root of a new trace", root.parentID)
	}

	// The lines about the order carry its trace and saga ids: the request
	// in order-service, the command applied in stock-service.
	s.checkLogLine("order", map[string]any{"msg": "http request", "route": "POST /orders", "status": float64(201)}, root.traceID, o.ID)
	s.checkLogLine("order", map[string]any{"msg": "order placed"}, root.traceID, o.ID)
	s.checkLogLine("stock", map[string]any{"msg": "message applied", "topic": "stock"}, root.traceID, o.ID)
	s.checkLogLine("payment", map[string]any{"msg": "message applied", "topic": "payment"}, root.traceID, o.ID)
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
