package consumer_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/codes"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/trace"
	"github.com/purchase-saga/messaging/trace/spantest"
)

const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// tracedBy returns the span context and saga id the handler saw for d.
func tracedBy(t *testing.T, d consumer.Delivery, err error) (oteltrace.SpanContext, string) {
	t.Helper()
	var got oteltrace.SpanContext
	var saga string
	h := consumer.Tracing(func(ctx context.Context, _ pgx.Tx, _ consumer.Delivery) error {
		got, saga = oteltrace.SpanContextFromContext(ctx), trace.SagaID(ctx)
		return err
	})
	_ = h(context.Background(), nil, d)
	if !got.IsValid() {
		t.Fatal("the handler's context carries no trace")
	}
	return got, saga
}

func TestTracingAppliesAMessageInAChildOfItsSpan(t *testing.T) {
	spans := spantest.Record(t)
	d := delivery(t, "test.event", nil)
	d.Headers[envelope.HeaderTraceparent] = parent
	got, saga := tracedBy(t, d, nil)
	if got.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || got.SpanID().String() == "00f067aa0ba902b7" {
		t.Errorf("handler ran in %s/%s, want a child span of the message's", got.TraceID(), got.SpanID())
	}
	if saga != d.Message.SagaID {
		t.Errorf("saga id %q, want the message's %q", saga, d.Message.SagaID)
	}
	ended := spans.GetSpans()
	if len(ended) != 1 || ended[0].Name != "process in" || ended[0].SpanKind != oteltrace.SpanKindConsumer ||
		ended[0].Parent.SpanID().String() != "00f067aa0ba902b7" {
		t.Fatalf("spans %+v, want one consumer span \"process in\" under the message's", ended)
	}
}

func TestTracingMarksAFailedApply(t *testing.T) {
	spans := spantest.Record(t)
	tracedBy(t, delivery(t, "test.event", nil), errors.New("boom"))
	if got := spans.GetSpans(); len(got) != 1 || got[0].Status.Code != codes.Error {
		t.Errorf("spans %+v, want one with an error status", got)
	}
}

func TestTracingStartsATraceForAMessageWithoutOne(t *testing.T) {
	d := delivery(t, "test.event", nil)
	d.Headers[envelope.HeaderTraceparent] = "not a traceparent"
	first, _ := tracedBy(t, d, nil)
	second, _ := tracedBy(t, d, nil)
	if first.TraceID() == second.TraceID() {
		t.Error("two messages without a trace share one")
	}
}
