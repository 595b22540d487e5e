package consumer

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/dlt"
	"github.com/purchase-saga/messaging/envelope"
)

// Delivery is one decoded message with where it came from.
type Delivery struct {
	Message   envelope.Message
	Topic     string
	Partition int
	Offset    int64
	Key       string
	Headers   map[string]string
	// Raw is the record as fetched, for handlers that forward it.
	Raw kafka.Message
}

// Handler applies one message inside tx. It returns nil when the message
// is applied (or deliberately ignored), an error wrapping ErrPoison when it
// never can be, and any other error to have it retried.
type Handler func(ctx context.Context, tx pgx.Tx, d Delivery) error

// Origin returns where d was read, for dead-letter headers.
func (d Delivery) Origin() dlt.Origin {
	return dlt.Origin{Topic: d.Topic, Partition: d.Partition, Offset: d.Offset}
}

// decode reads m into a Delivery; an error says its value is no envelope,
// and the Delivery then still says where m came from, for its dead letter.
func decode(m kafka.Message) (Delivery, error) {
	d := Delivery{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Key: string(m.Key), Raw: m,
		Headers: make(map[string]string, len(m.Headers))}
	for _, h := range m.Headers {
		d.Headers[h.Key] = string(h.Value)
	}
	msg, err := envelope.Decode(m.Value)
	if err != nil {
		return d, err
	}
	d.Message = msg
	return d, nil
}
