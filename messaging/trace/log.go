package trace

import (
	"context"
	"log/slog"

	oteltrace "go.opentelemetry.io/otel/trace"
)

// Log field names the handler adds.
const (
	LogTraceID = "trace_id"
	LogSpanID  = "span_id"
	LogSagaID  = "saga_id"
)

// LogHandler wraps h so that every record logged with a context carries
// the trace_id and span_id of the context's span and the saga_id the
// context is about (WithSaga), each unless the logger already names it
// (a consumer's logger names the saga of its message, say).
func LogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(*logHandler); ok {
		return h
	}
	return &logHandler{next: h}
}

// WithLog returns log with its handler wrapped by LogHandler.
func WithLog(log *slog.Logger) *slog.Logger {
	if _, ok := log.Handler().(*logHandler); ok {
		return log
	}
	return slog.New(LogHandler(log.Handler()))
}

type logHandler struct {
	next slog.Handler
	// hasTrace and hasSaga say the logger's own attributes name them.
	hasTrace, hasSaga bool
}

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if sc := oteltrace.SpanContextFromContext(ctx); sc.IsValid() && !h.hasTrace {
			r.AddAttrs(slog.String(LogTraceID, sc.TraceID().String()), slog.String(LogSpanID, sc.SpanID().String()))
		}
		if id := SagaID(ctx); id != "" && !h.hasSaga {
			r.AddAttrs(slog.String(LogSagaID, id))
		}
	}
	return h.next.Handle(ctx, r)
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := &logHandler{next: h.next.WithAttrs(as), hasTrace: h.hasTrace, hasSaga: h.hasSaga}
	for _, a := range as {
		switch a.Key {
		case LogTraceID:
			out.hasTrace = true
		case LogSagaID:
			out.hasSaga = true
		}
	}
	return out
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{next: h.next.WithGroup(name), hasTrace: h.hasTrace, hasSaga: h.hasSaga}
}
