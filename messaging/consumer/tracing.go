package consumer

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/trace"
)

// Tracing runs next under a child of the trace named by the message's
// traceparent header (a new trace when it has none), so that what the
// handler writes to the outbox continues the trace of what caused it.
// Every consumer runs its handler inside it.
func Tracing(next Handler) Handler {
	return func(ctx context.Context, tx pgx.Tx, d Delivery) error {
		return next(trace.Continue(ctx, d.Headers[envelope.HeaderTraceparent]), tx, d)
	}
}
