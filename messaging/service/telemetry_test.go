package service

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/purchase-saga/messaging/config"
	"github.com/purchase-saga/messaging/trace"
)

// otlpReceiver is a collector's OTLP/HTTP traces endpoint: it keeps the
// name of every span posted to /v1/traces, by the service.name of its
// resource.
type otlpReceiver struct {
	URL   string
	mu    sync.Mutex
	spans map[string][]string
	posts int
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	rc := &otlpReceiver{spans: map[string][]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		var req collectortrace.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(body, &req)
		}
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || err != nil {
			t.Errorf("collector got %s %s (%v), want a POST of spans to /v1/traces", r.Method, r.URL.Path, err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.posts++
		for _, rs := range req.ResourceSpans {
			service := ""
			for _, a := range rs.GetResource().GetAttributes() {
				if a.Key == "service.name" {
					service = a.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					rc.spans[service] = append(rc.spans[service], s.Name)
				}
			}
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write([]byte{})
	}))
	t.Cleanup(srv.Close)
	rc.URL = srv.URL
	return rc
}

func (rc *otlpReceiver) received() (map[string][]string, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.spans, rc.posts
}

// telemetryFromEnv reads Telemetry as a service does at start.
func telemetryFromEnv(t *testing.T) Telemetry {
	t.Helper()
	var cfg Telemetry
	if err := config.Load(&cfg, nil); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestSpansAreExportedOverOTLPWhenAnEndpointIsSet(t *testing.T) {
	rc := newOTLPReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rc.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "")
	stop, err := SetupTelemetry(context.Background(), "test-service", telemetryFromEnv(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	_, span := trace.Start(context.Background(), "outbox write")
	recording := span.IsRecording()
	span.End()
	stop() // flushes
	if !recording {
		t.Error("a span was not recorded with an exporter set")
	}
	spans, _ := rc.received()
	if got := spans["test-service"]; len(got) != 1 || got[0] != "outbox write" {
		t.Errorf("collector got %v, want the span of test-service", spans)
	}
	if _, span := trace.Start(context.Background(), "after"); span.IsRecording() {
		t.Error("a span is recorded after the exporter stopped")
	}
}

func TestNothingIsExportedWithoutAnEndpoint(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	before := trace.Provider()
	stop, err := SetupTelemetry(context.Background(), "test-service", telemetryFromEnv(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if trace.Provider() != before {
		t.Error("a provider was installed without an endpoint")
	}
	ctx, span := trace.Start(context.Background(), "x")
	defer span.End()
	if span.IsRecording() || trace.Traceparent(ctx) == "" {
		t.Errorf("recording %v, traceparent %q: want an unrecorded span that still has its ids", span.IsRecording(), trace.Traceparent(ctx))
	}
}

func TestAnUnknownProtocolIsRefused(t *testing.T) {
	cfg := Telemetry{OTLPEndpoint: "http://127.0.0.1:1", OTLPProtocol: "carrier-pigeon"}
	if _, err := SetupTelemetry(context.Background(), "s", cfg, slog.New(slog.DiscardHandler)); err == nil {
		t.Error("protocol carrier-pigeon accepted")
	}
}
