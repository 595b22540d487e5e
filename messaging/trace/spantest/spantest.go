// Package spantest records the spans a test causes: Record installs a
// provider that samples every trace and keeps its ended spans in memory
// (the SDK's tracetest exporter), for the test's duration. The provider
// is the process's, so a test that records must not run in parallel with
// another that records.
package spantest

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/purchase-saga/messaging/trace"
)

// Record installs an in-memory recording provider until the test ends and
// returns its exporter.
func Record(t testing.TB) *tracetest.InMemoryExporter {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSyncer(exp))
	before := trace.Provider()
	trace.SetProvider(tp)
	t.Cleanup(func() {
		trace.SetProvider(before)
		_ = tp.Shutdown(context.Background())
	})
	return exp
}

// Named returns the spans of exp named name.
func Named(exp *tracetest.InMemoryExporter, name string) tracetest.SpanStubs {
	var out tracetest.SpanStubs
	for _, s := range exp.GetSpans() {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}
