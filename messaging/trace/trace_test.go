package trace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/purchase-saga/messaging/trace"
	"github.com/purchase-saga/messaging/trace/spantest"
)

const incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestATraceparentGoesThroughAContextUnchanged(t *testing.T) {
	ctx := trace.Extract(context.Background(), incoming)
	if got := trace.Traceparent(ctx); got != incoming {
		t.Errorf("Traceparent(Extract(%q)) = %q", incoming, got)
	}
	for _, bad := range []string{"", "00-xyz-00f067aa0ba902b7-01", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"} {
		if got := trace.Traceparent(trace.Extract(context.Background(), bad)); got != "" {
			t.Errorf("Extract(%q) gave a trace: %q", bad, got)
		}
	}
}

func TestASpanWithoutAProviderStillHasItsIDs(t *testing.T) {
	// The default provider samples nothing, yet a message must carry a
	// valid traceparent: a new trace, or the incoming one continued.
	ctx, span := trace.Start(context.Background(), "x")
	defer span.End()
	fresh := trace.Traceparent(ctx)
	if span.IsRecording() || len(fresh) != 55 {
		t.Errorf("recording %v, traceparent %q: want an unrecorded span with a valid traceparent", span.IsRecording(), fresh)
	}
	child, span2 := trace.Start(trace.Extract(context.Background(), incoming), "y")
	defer span2.End()
	got := trace.Traceparent(child)
	if !strings.HasPrefix(got, "00-4bf92f3577b34da6a3ce929d0e0e4736-") || got[36:52] == "00f067aa0ba902b7" {
		t.Errorf("child traceparent %q, want a new span of the incoming trace", got)
	}
}

func TestSampled(t *testing.T) {
	for s, want := range map[string]bool{
		incoming: true, incoming[:53] + "00": false, incoming[:53] + "03": true, incoming[:53] + "0F": true, "": false, "01": false,
	} {
		if got := trace.Sampled(s); got != want {
			t.Errorf("Sampled(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestKafkaHeadersCarryATrace(t *testing.T) {
	hs := []kafka.Header{{Key: "type", Value: []byte("a.b")}, {Key: "traceparent", Value: []byte("old")}}
	c := trace.KafkaHeaders{Headers: &hs}
	trace.Propagator.Inject(trace.Extract(context.Background(), incoming), c)
	if len(hs) != 2 || string(hs[1].Value) != incoming {
		t.Errorf("headers after Inject %q, want the traceparent replaced in place", hs)
	}
	if got := trace.Traceparent(trace.Propagator.Extract(context.Background(), c)); got != incoming {
		t.Errorf("extracted %q, want %q", got, incoming)
	}
}

func TestHTTPNamesTheSpanByRouteAndLogsTheRequest(t *testing.T) {
	spans := spantest.Record(t)
	var logs bytes.Buffer
	log := slog.New(trace.LogHandler(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		trace.WithSaga(r.Context(), r.PathValue("id"))
		w.WriteHeader(http.StatusTeapot)
	})
	h := trace.HTTP(mux, log)
	r := httptest.NewRequest("GET", "/orders/o-1", nil)
	r.Header.Set("traceparent", incoming)
	h.ServeHTTP(httptest.NewRecorder(), r)

	got := spans.GetSpans()
	if len(got) != 1 || got[0].Name != "GET /orders/{id}" || got[0].SpanKind != oteltrace.SpanKindServer {
		t.Fatalf("spans %+v, want one server span named GET /orders/{id}", got)
	}
	if got[0].SpanContext.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || got[0].Parent.SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("span in trace %s under %s, want the request's", got[0].SpanContext.TraceID(), got[0].Parent.SpanID())
	}
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	want := map[string]any{"msg": "http request", "method": "GET", "route": "GET /orders/{id}", "status": float64(418),
		"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": got[0].SpanContext.SpanID().String(), "saga_id": "o-1"}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("log field %s = %v, want %v (line %s)", k, line[k], v, logs.String())
		}
	}
}

func TestHTTPWithoutAProviderStillCarriesTheRequestTrace(t *testing.T) {
	var got, saga string
	h := trace.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got = trace.Traceparent(r.Context())
		trace.WithSaga(r.Context(), "o-2")
		saga = trace.SagaID(r.Context())
	}))
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("traceparent", incoming)
	h.ServeHTTP(httptest.NewRecorder(), r)
	if !strings.HasPrefix(got, "00-4bf92f3577b34da6a3ce929d0e0e4736-") || got == incoming {
		t.Errorf("traceparent %q, want a new span of the request's trace", got)
	}
	if saga != "o-2" {
		t.Errorf("saga %q, want the one the handler named", saga)
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil))
	if len(got) != 55 || strings.Contains(got, "4bf92f3577b34da6a3ce929d0e0e4736") {
		t.Errorf("a request without a trace gave %q, want a new one", got)
	}
}

func TestHTTPLogsNothingAboveDebug(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(trace.LogHandler(slog.NewJSONHandler(&logs, nil)))
	trace.HTTP(http.NotFoundHandler(), log).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if logs.Len() != 0 {
		t.Errorf("logged %q at info", logs.String())
	}
}

func TestLogHandlerNamesTheTraceAndSagaOnce(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(trace.LogHandler(slog.NewTextHandler(&logs, nil)))
	ctx := trace.WithSaga(trace.Extract(context.Background(), incoming), "o-7")
	log.InfoContext(ctx, "one")
	log.With("saga_id", "o-8", "trace_id", "t").InfoContext(ctx, "two")
	log.Info("three")
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("lines %q", lines)
	}
	if !strings.Contains(lines[0], "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 saga_id=o-7") {
		t.Errorf("line %q lacks the context's trace and saga", lines[0])
	}
	if strings.Count(lines[1], "saga_id=") != 1 || strings.Count(lines[1], "trace_id=") != 1 {
		t.Errorf("line %q names the saga or the trace twice", lines[1])
	}
	if strings.Contains(lines[2], "trace_id") || strings.Contains(lines[2], "saga_id") {
		t.Errorf("line %q, logged without a context, names a trace or a saga", lines[2])
	}
}

// BenchmarkConsumedMessage is what continuing a message's trace costs
// with no exporter: its traceparent read, a span started and ended.
func BenchmarkConsumedMessage(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		ctx, span := trace.Start(trace.Extract(context.Background(), incoming), "process")
		_ = trace.WithSaga(ctx, "o-1")
		span.End()
	}
}

// BenchmarkHTTP is what a request's span costs with no exporter, the
// handler doing nothing.
func BenchmarkHTTP(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(http.ResponseWriter, *http.Request) {})
	h := trace.HTTP(mux, slog.New(slog.DiscardHandler))
	r := httptest.NewRequest("GET", "/orders/o-1", nil)
	r.Header.Set("traceparent", incoming)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

// Health checks and metrics scrapes named untraced make no span; the
// other requests do.
func TestUntracedPathsMakeNoSpan(t *testing.T) {
	spans := spantest.Record(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("GET /orders/{id}", func(http.ResponseWriter, *http.Request) {})
	h := trace.HTTP(mux, nil, "/healthz")
	for _, path := range []string{"/healthz", "/orders/o-1", "/healthz"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	var names []string
	for _, s := range spans.GetSpans() {
		names = append(names, s.Name)
	}
	if len(names) != 1 || names[0] != "GET /orders/{id}" {
		t.Errorf("spans %q, want only GET /orders/{id}", names)
	}
}
