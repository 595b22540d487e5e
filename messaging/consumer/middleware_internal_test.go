package consumer

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/postgres"
)

func testDelivery(t testing.TB, msgType string, data any) Delivery {
	t.Helper()
	m, err := envelope.New(msgType, "k", data)
	if err != nil {
		t.Fatal(err)
	}
	return Delivery{Message: m, Topic: "in", Headers: map[string]string{}}
}

// The configured middleware run in their order, the first outermost,
// inside the built-in ones (a panic in one is recovered, the handler sees
// a trace), and a handler's error names its message.
func TestChainRunsConfiguredMiddlewareInOrderInsideTheBuiltIns(t *testing.T) {
	var calls []string
	mark := func(name string) Middleware {
		return func(next Handler) Handler {
			return func(ctx context.Context, tx pgx.Tx, d Delivery) error {
				calls = append(calls, name)
				if d.Message.Type == "test.panic-in-"+name {
					panic("middleware bug")
				}
				return next(ctx, tx, d)
			}
		}
	}
	errRefused := errors.New("refused")
	var traced bool
	handler := func(ctx context.Context, _ pgx.Tx, d Delivery) error {
		calls = append(calls, "handler")
		traced = oteltrace.SpanContextFromContext(ctx).IsValid()
		if d.Message.Type == "test.refused" {
			return errRefused
		}
		return nil
	}
	c := &Consumer{log: slog.New(slog.DiscardHandler)}
	h := c.chain(handler, []Middleware{mark("first"), mark("second")})

	if err := h(context.Background(), nil, testDelivery(t, "test.ok", nil)); err != nil {
		t.Fatalf("chain: %v", err)
	}
	if want := []string{"first", "second", "handler"}; !slices.Equal(calls, want) {
		t.Errorf("calls %v, want %v", calls, want)
	}
	if !traced {
		t.Error("the handler ran without a trace in its context")
	}

	d := testDelivery(t, "test.refused", nil)
	err := h(context.Background(), nil, d)
	if !errors.Is(err, errRefused) || !strings.Contains(err.Error(), "handle test.refused "+d.Message.ID.String()) {
		t.Errorf("handler error %v, want errRefused naming the message", err)
	}

	calls = nil
	err = h(context.Background(), nil, testDelivery(t, "test.panic-in-second", nil))
	if !errors.Is(err, ErrPoison) || !strings.Contains(err.Error(), "panicked: middleware bug") {
		t.Errorf("panic in a configured middleware: %v, want poison", err)
	}
	if want := []string{"first", "second"}; !slices.Equal(calls, want) {
		t.Errorf("calls %v, want %v", calls, want)
	}
}

// BenchmarkChain measures what the middleware cost a message in a
// transaction's hooks, the handler doing nothing: the built-in ones
// (metrics, recovery, tracing) and the naming of errors.
func BenchmarkChain(b *testing.B) {
	d := testDelivery(b, "test.ok", map[string]int{"seq": 1})
	d.Headers[envelope.HeaderTraceparent] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	nop := func(context.Context, pgx.Tx, Delivery) error { return nil }
	c := &Consumer{log: slog.New(slog.DiscardHandler)}
	for _, bc := range []struct {
		name string
		h    Handler
	}{
		{"handler-alone", nop},
		{"without-tracing", Metrics(Recoverer(c.log)(describeErrors(nop)))},
		{"chain", c.chain(nop, nil)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx, _ := postgres.WithTxHooks(context.Background())
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.h(ctx, nil, d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
