package outbox

import (
	"context"

	"github.com/segmentio/kafka-go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/trace"
)

// publishSpans are the "publish <topic>" spans of a batch's messages, by
// index, nil for a message published without one.
type publishSpans []oteltrace.Span

// startPublishSpans starts a producer span per message of msgs whose
// stored traceparent (the span of its outbox write) is sampled, a child
// of that span, and puts the new span's traceparent in the message's
// header in its place, so that the consumer's span is the publish span's
// child and one order is one trace across the services. A message whose
// trace is not sampled (no exporter where it was written) goes out with
// its header as stored and costs no span: the relay publishes tens of
// thousands of rows a second.
func startPublishSpans(ctx context.Context, msgs []kafka.Message) publishSpans {
	var spans publishSpans
	for i := range msgs {
		carrier := trace.KafkaHeaders{Headers: &msgs[i].Headers}
		stored := carrier.Get(envelope.HeaderTraceparent)
		if !trace.Sampled(stored) {
			continue
		}
		sctx, span := trace.Start(trace.Extract(ctx, stored), "publish "+msgs[i].Topic,
			oteltrace.WithSpanKind(oteltrace.SpanKindProducer))
		if !span.IsRecording() {
			continue
		}
		span.SetAttributes(
			attribute.String("messaging.system", "kafka"),
			attribute.String("messaging.operation.type", "send"),
			attribute.String("messaging.destination.name", msgs[i].Topic),
			attribute.String("messaging.kafka.message.key", string(msgs[i].Key)),
			attribute.String("messaging.message.id", carrier.Get(envelope.HeaderMessageID)),
			attribute.String("message.type", carrier.Get(envelope.HeaderType)),
		)
		trace.Propagator.Inject(sctx, carrier)
		if spans == nil {
			spans = make(publishSpans, len(msgs))
		}
		spans[i] = span
	}
	return spans
}

// end ends the spans with each message's outcome: errs as publish returns
// them, or err for all when the batch's publish failed as a whole.
func (spans publishSpans) end(errs []error, err error) {
	for i, span := range spans {
		if span == nil {
			continue
		}
		e := err
		if e == nil && i < len(errs) {
			e = errs[i]
		}
		if e != nil {
			span.RecordError(e)
			span.SetStatus(codes.Error, e.Error())
		}
		span.End()
	}
}
