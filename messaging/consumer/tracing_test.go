package consumer_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/trace"
)

// tracedBy returns the trace the handler saw for d.
func tracedBy(t *testing.T, d consumer.Delivery) trace.Parent {
	t.Helper()
	var got trace.Parent
	var ok bool
	h := consumer.Tracing(func(ctx context.Context, _ pgx.Tx, _ consumer.Delivery) error {
		got, ok = trace.FromContext(ctx)
		return nil
	})
	if err := h(context.Background(), nil, d); err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Fatal("the handler's context carries no trace")
	}
	return got
}

func TestTracingContinuesTheMessagesTrace(t *testing.T) {
	parent := trace.New()
	d := delivery(t, "test.event", nil)
	d.Headers[envelope.HeaderTraceparent] = parent.String()
	got := tracedBy(t, d)
	if got.TraceID != parent.TraceID {
		t.Errorf("trace id %s, want the message's %s", got.TraceID, parent.TraceID)
	}
	if got.SpanID == parent.SpanID {
		t.Error("the handler runs in the message's own span, want a child span")
	}
}

func TestTracingStartsATraceForAMessageWithoutOne(t *testing.T) {
	d := delivery(t, "test.event", nil)
	d.Headers[envelope.HeaderTraceparent] = "not a traceparent"
	first, second := tracedBy(t, d), tracedBy(t, d)
	if _, ok := trace.Parse(first.String()); !ok {
		t.Errorf("trace %q is not a valid traceparent", first)
	}
	if first.TraceID == second.TraceID {
		t.Error("two messages without a trace share one")
	}
}
