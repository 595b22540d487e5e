package consumer

import (
	"context"
	"log/slog"

	"github.com/purchase-saga/messaging/envelope"
)

func (c *Consumer) logFor(d Delivery) *slog.Logger {
	return logFor(c.log, d)
}

// logFor returns log with the fields that find d again: where it was
// read, its message id, its saga id and its trace id (as its traceparent
// header names it: the line may be logged outside the message's span).
func logFor(log *slog.Logger, d Delivery) *slog.Logger {
	args := []any{"topic", d.Topic, "partition", d.Partition, "offset", d.Offset,
		"message_id", d.Headers[envelope.HeaderMessageID], "saga_id", d.Message.SagaID}
	if tp := d.Headers[envelope.HeaderTraceparent]; len(tp) == 55 {
		args = append(args, "trace_id", tp[3:35])
	}
	return log.With(args...)
}

type loggerKey struct{}

// withLogger gives a batch's context the consumer's logger, for handlers
// to say at debug what they did with a message (Logger). Only when debug
// is enabled: otherwise a handler's Logger discards, for nothing.
func withLogger(ctx context.Context, log *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, log)
}

var discard = slog.New(slog.DiscardHandler)

// Logger returns the logger of the consumer applying the message whose
// context ctx is, when it logs at debug, for a handler to say what it did
// with the message (a participant's refusal, say); otherwise a logger
// that discards. Log with ctx: the line then carries the message's
// trace_id and saga_id.
func Logger(ctx context.Context) *slog.Logger {
	if log, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return log
	}
	return discard
}
