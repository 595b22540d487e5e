package console

import (
	"net/http"

	"github.com/purchase-saga/messaging/cmd/sagactl/internal/timeline"
	"github.com/purchase-saga/messaging/cmd/sagactl/internal/traces"
)

// DefaultTraceSpans is how many spans the console keeps by default.
const DefaultTraceSpans = 50_000

// traceSummary is a trace of a saga as its page names it.
type traceSummary struct {
	ID    string
	Spans int
}

// received says, for every trace a saga's messages carry, how many of its
// spans the console holds.
func (s *Server) received(tl timeline.Timeline) []traceSummary {
	out := make([]traceSummary, 0, len(tl.TraceIDs))
	for _, id := range tl.TraceIDs {
		n := 0
		if tid, err := traces.ParseTraceID(id); err == nil {
			n = len(s.Traces.Trace(tid))
		}
		out = append(out, traceSummary{ID: id, Spans: n})
	}
	return out
}

// collector says how the services reach the console's /v1/traces, and
// what the console holds.
type collector struct {
	// Endpoint is what OTEL_EXPORTER_OTLP_ENDPOINT should be: this console.
	Endpoint     string
	Spans, Limit int
	Traces       int
}

func (s *Server) collector(r *http.Request) collector {
	spans, n := s.Traces.Len()
	return collector{Endpoint: "http://" + r.Host, Spans: spans, Limit: s.Traces.Max(), Traces: n}
}

type traceData struct {
	T          timeline.Timeline
	Waterfalls []traces.Waterfall
	Collector  collector
}

// trace shows the spans of a saga's trace as a waterfall: the trace is
// the one its messages' traceparent headers name.
func (s *Server) trace(w http.ResponseWriter, r *http.Request) {
	tl, ok := s.loadSaga(w, r)
	if !ok {
		return
	}
	d := traceData{T: tl, Collector: s.collector(r)}
	for _, id := range tl.TraceIDs {
		tid, err := traces.ParseTraceID(id)
		if err != nil {
			continue
		}
		d.Waterfalls = append(d.Waterfalls, traces.Layout(tid, s.Traces.Trace(tid)))
	}
	s.render(w, http.StatusOK, "trace", page{Title: "Trace of saga " + tl.OrderID, Active: "sagas", Live: true, Data: d})
}
