// Package trace is the system's OpenTelemetry tracing: the tracer provider
// every span starts from, the W3C traceparent that carries a trace through
// the outbox and over Kafka headers (SPEC section 4), the saga id a
// request or a message is about, and a slog handler that writes both on
// every log line.
//
// Until SetProvider installs another (service.SetupTelemetry does, from
// the environment), spans come from a provider that samples none: they
// are not recorded and nothing is exported, but each still has its ids,
// so every message carries a valid traceparent and every log line a
// trace_id, at the cost of those ids and a context.
package trace

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"
)

// ScopeName names the instrumentation scope of the system's spans.
const ScopeName = "github.com/purchase-saga/messaging"

// Header is the message header and the HTTP header that carry a trace.
const Header = "traceparent"

// Propagator is the W3C Trace Context propagator: the traceparent header
// of HTTP requests and messages (and tracestate, when a trace has one).
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

type installed struct {
	provider  oteltrace.TracerProvider
	tracer    oteltrace.Tracer
	recording bool
}

var current atomic.Pointer[installed]

// unsampled is the provider in place until another is installed: it
// samples nothing, so its spans are never recorded, but it gives them ids.
var unsampled = sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))

func init() { Reset() }

// SetProvider makes tp the provider of the system's spans (and the
// OpenTelemetry global one, with the W3C propagator). Code that starts
// spans reads it at each span; the HTTP middleware when it is built.
func SetProvider(tp oteltrace.TracerProvider) {
	current.Store(&installed{provider: tp, tracer: tp.Tracer(ScopeName), recording: tp != unsampled})
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(Propagator)
}

// Reset puts back the provider that samples nothing.
func Reset() { SetProvider(unsampled) }

// Recording reports whether the installed provider may record spans:
// false until one is installed. Spans whose only use would be new ids (a
// consumer's, an outbox write's) are then not started at all: a message
// continues the span it came with, and the hot path pays for no span.
func Recording() bool { return current.Load().recording }

// Provider returns the installed provider.
func Provider() oteltrace.TracerProvider { return current.Load().provider }

// Tracer returns the system's tracer from the installed provider.
func Tracer() oteltrace.Tracer { return current.Load().tracer }

// Start starts a span named name under ctx's span (a new trace when ctx
// has none).
func Start(ctx context.Context, name string, opts ...oteltrace.SpanStartOption) (context.Context, oteltrace.Span) {
	return Tracer().Start(ctx, name, opts...)
}

// Traceparent returns the traceparent header value of ctx's span, "" when
// ctx has none.
func Traceparent(ctx context.Context) string {
	var c one
	Propagator.Inject(ctx, &c)
	return c.value
}

// Extract returns ctx with the remote span named by the traceparent value
// s as its parent; ctx unchanged when s is empty or malformed.
func Extract(ctx context.Context, s string) context.Context {
	if s == "" {
		return ctx
	}
	return Propagator.Extract(ctx, &one{value: s})
}

// Sampled reports whether the traceparent value s has its sampled flag
// set: its trace is recorded where it came from, so a span continuing it
// may be. A cheap test, read before starting a span per message.
func Sampled(s string) bool {
	// version-traceid-spanid-flags: the sampled bit is the lowest of the
	// flags' last hex digit, odd for 1, 3, …, 9, b, d, f.
	if len(s) != 55 {
		return false
	}
	switch s[54] {
	case '1', '3', '5', '7', '9', 'b', 'd', 'f', 'B', 'D', 'F':
		return true
	}
	return false
}

// one is a carrier of the traceparent alone: what a row's or a message's
// header holds.
type one struct{ value string }

func (c *one) Get(key string) string {
	if key == Header {
		return c.value
	}
	return ""
}

func (c *one) Set(key, value string) {
	if key == Header {
		c.value = value
	}
}

func (c *one) Keys() []string { return []string{Header} }
