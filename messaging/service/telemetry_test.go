package service

import (
	"context"
	"log/slog"
	"testing"

	"github.com/purchase-saga/messaging/config"
	"github.com/purchase-saga/messaging/trace"
	"github.com/purchase-saga/messaging/trace/spantest"
)

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
	c := spantest.NewCollector(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", c.URL)
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
	if got := c.Spans(); len(got) != 1 || got[0].Service != "test-service" || got[0].Name != "outbox write" {
		t.Errorf("collector got %+v, want the span of test-service", got)
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
