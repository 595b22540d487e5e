package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/purchase-saga/messaging/trace"
)

// Telemetry is where a service exports its traces: the standard
// OpenTelemetry variables, read here to decide whether to export at all
// and how, and read again by the OTLP exporter itself, with the others it
// knows (OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TIMEOUT, …;
// OTEL_TRACES_SAMPLER and OTEL_BSP_* by the SDK). Without an endpoint
// nothing is exported.
type Telemetry struct {
	// OTLPEndpoint is the collector's base URL (http://jaeger:4318): spans
	// go to its /v1/traces over HTTP, or to it over gRPC.
	OTLPEndpoint string `env:"OTEL_EXPORTER_OTLP_ENDPOINT"`
	// OTLPTracesEndpoint is the full URL of traces, instead of the base.
	OTLPTracesEndpoint string `env:"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"`
	// OTLPProtocol is http/protobuf, http/json or grpc.
	OTLPProtocol string `env:"OTEL_EXPORTER_OTLP_PROTOCOL" default:"http/protobuf"`
	// OTLPTracesProtocol, when set, is the protocol of traces instead.
	OTLPTracesProtocol string `env:"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"`
}

// exporting reports whether spans are to be exported.
func (t Telemetry) exporting() bool { return t.OTLPEndpoint != "" || t.OTLPTracesEndpoint != "" }

// protocol returns the protocol of traces.
func (t Telemetry) protocol() string {
	switch {
	case t.OTLPTracesProtocol != "":
		return t.OTLPTracesProtocol
	case t.OTLPProtocol != "":
		return t.OTLPProtocol
	}
	return "http/protobuf"
}

// Validate refuses a protocol no exporter speaks.
func (t Telemetry) Validate() error {
	switch p := t.protocol(); p {
	case "http/protobuf", "http/json", "grpc":
		return nil
	default:
		return fmt.Errorf("OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL=%q: want http/protobuf, http/json or grpc", p)
	}
}

// telemetryFlush bounds how long stopping waits for the last spans to go.
const telemetryFlush = 5 * time.Second

// SetupTelemetry installs the tracer provider of service name (trace.SetProvider):
// when cfg names an OTLP endpoint, one that samples as OTEL_TRACES_SAMPLER
// says (every trace by default, or as its parent was) and exports in
// batches, its resource naming the service (service.name); otherwise
// none is installed and nothing is exported. The function it returns
// flushes the spans not yet exported and puts back a provider that
// samples nothing: call it when the service has stopped.
func SetupTelemetry(ctx context.Context, name string, cfg Telemetry, log *slog.Logger) (stop func(), err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.exporting() {
		return func() {}, nil
	}
	var exp sdktrace.SpanExporter
	if cfg.protocol() == "grpc" {
		exp, err = otlptracegrpc.New(ctx)
	} else {
		opts := []otlptracehttp.Option{}
		if cfg.protocol() == "http/json" {
			opts = append(opts, otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON))
		}
		exp, err = otlptracehttp.New(ctx, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("otlp trace exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", name)))
	if err != nil {
		return nil, fmt.Errorf("telemetry resource: %w", err)
	}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("telemetry", "err", err)
	}))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	trace.SetProvider(tp)
	log.Info("exporting traces", "protocol", cfg.protocol())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), telemetryFlush)
		defer cancel()
		trace.Reset()
		if err := tp.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Warn("telemetry shutdown: spans may be lost", "err", err)
		}
	}, nil
}
