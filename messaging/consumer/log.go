package consumer

import (
	"log/slog"

	"github.com/purchase-saga/messaging/envelope"
)

func (c *Consumer) logFor(d Delivery) *slog.Logger {
	return logFor(c.log, d)
}

// logFor returns log with the fields that find d again: where it was
// read, its message id and its saga id.
func logFor(log *slog.Logger, d Delivery) *slog.Logger {
	return log.With("topic", d.Topic, "partition", d.Partition, "offset", d.Offset,
		"message_id", d.Headers[envelope.HeaderMessageID], "saga_id", d.Message.SagaID)
}
