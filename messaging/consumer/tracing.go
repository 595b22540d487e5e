package consumer

import (
	"context"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/trace"
)

// Tracing runs next in a span of its own per message ("process <topic>",
// a consumer span), a child of the span named by the message's
// traceparent header (the relay's publish span) or the root of a new
// trace when it has none, and with the message's saga id in its context:
// what the handler writes to the outbox continues the trace of what caused
// it, and its log lines carry trace_id and saga_id. A batch applies each
// of its messages in its own span, each in the trace of its own message;
// the spans end when the handler returns, before the batch commits.
// Every consumer runs its handler inside it.
//
// Until a provider that records is installed (trace.Recording), a message
// with a valid traceparent is applied in that span itself, with no span
// of its own: one that would not be recorded only costs its ids.
func Tracing(next Handler) Handler {
	return func(ctx context.Context, tx pgx.Tx, d Delivery) error {
		ctx = trace.Extract(ctx, d.Headers[envelope.HeaderTraceparent])
		if !trace.Recording() && oteltrace.SpanContextFromContext(ctx).IsValid() {
			return next(trace.WithSaga(ctx, d.Message.SagaID), tx, d)
		}
		ctx, span := trace.Start(ctx, "process", oteltrace.WithSpanKind(oteltrace.SpanKindConsumer))
		defer span.End()
		if span.IsRecording() {
			// Named and described only when recorded: a span that is not
			// costs no string or attribute.
			span.SetName("process " + d.Topic)
			span.SetAttributes(
				attribute.String("messaging.system", "kafka"),
				attribute.String("messaging.operation.type", "process"),
				attribute.String("messaging.destination.name", d.Topic),
				attribute.Int("messaging.destination.partition.id", d.Partition),
				attribute.Int64("messaging.kafka.offset", d.Offset),
				attribute.String("messaging.message.id", d.Message.ID.String()),
				attribute.String("messaging.kafka.message.key", d.Key),
				attribute.String("message.type", d.Message.Type),
			)
		}
		err := next(trace.WithSaga(ctx, d.Message.SagaID), tx, d)
		if err != nil && span.IsRecording() {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		return err
	}
}
