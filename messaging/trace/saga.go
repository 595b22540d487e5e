package trace

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	oteltrace "go.opentelemetry.io/otel/trace"
)

// SagaAttribute is the span attribute that names the saga (the order id).
const SagaAttribute = attribute.Key("saga.id")

type sagaKey struct{}

// sagaBox holds the saga id of a request or a message. An HTTP request
// gets an empty one at its entry (Middleware), set once a handler knows
// the order (WithSaga), so that every later log line of the request,
// the middleware's own included, carries it.
type sagaBox struct{ id atomic.Pointer[string] }

// WithSaga says that ctx's work is about saga id (an order id): log lines
// written with ctx carry it as saga_id and ctx's span as saga.id. Within
// a request (or a message) whose entry gave ctx a saga box, it fills that
// box and returns ctx; otherwise it returns a context with a box of its own.
func WithSaga(ctx context.Context, id string) context.Context {
	if id == "" {
		return ctx
	}
	if span := oteltrace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(SagaAttribute.String(id))
	}
	if b, ok := ctx.Value(sagaKey{}).(*sagaBox); ok {
		b.id.Store(&id)
		return ctx
	}
	return context.WithValue(ctx, sagaKey{}, id)
}

// withSagaBox returns ctx with an empty saga box, for WithSaga to fill.
func withSagaBox(ctx context.Context) context.Context {
	return context.WithValue(ctx, sagaKey{}, &sagaBox{})
}

// SagaID returns the saga id ctx's work is about, "" when none is known.
func SagaID(ctx context.Context) string {
	switch v := ctx.Value(sagaKey{}).(type) {
	case string:
		return v
	case *sagaBox:
		if id := v.id.Load(); id != nil {
			return *id
		}
	}
	return ""
}
