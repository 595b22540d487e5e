package timeline

import (
	"cmp"
	"context"
	"slices"

	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/purchase-saga/messaging/trace"
)

// sawTraceparent counts the trace of a message's traceparent header (one
// order is one trace: every message about it carries the same trace id).
func (tl *Timeline) sawTraceparent(tp string) {
	sc := oteltrace.SpanContextFromContext(trace.Extract(context.Background(), tp))
	if !sc.TraceID().IsValid() {
		return
	}
	if tl.traces == nil {
		tl.traces = map[string]int{}
	}
	tl.traces[sc.TraceID().String()]++
}

// traceIDs are the traces seen, the most carried first.
func (tl *Timeline) traceIDs() []string {
	ids := make([]string, 0, len(tl.traces))
	for id := range tl.traces {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int { return cmp.Or(cmp.Compare(tl.traces[b], tl.traces[a]), cmp.Compare(a, b)) })
	return ids
}
