// Package deadletter is what sagactl does with dead letters, for its
// commands and its console alike: list the newest that match, and replay
// them.
package deadletter

import (
	"encoding/json"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/dlt"
	"github.com/purchase-saga/messaging/envelope"
)

// Record is a dead letter as sagactl shows it.
type Record struct {
	Topic     string            `json:"topic"`
	Partition int               `json:"partition"`
	Offset    int64             `json:"offset"`
	Key       string            `json:"key"`
	Type      string            `json:"type"`
	Reason    string            `json:"reason"`
	Error     string            `json:"error"`
	Attempts  string            `json:"attempts"`
	FailedAt  string            `json:"failed_at"`
	Origin    string            `json:"origin"`
	Service   string            `json:"service"`
	Headers   map[string]string `json:"headers"`
	Value     json.RawMessage   `json:"value,omitempty"`
	RawValue  string            `json:"raw_value,omitempty"`
	// At is when the record failed: dlt-failed-at, else its timestamp.
	At time.Time `json:"-"`
}

// FromMessage reads dead letter m.
func FromMessage(m kafka.Message) Record {
	r := Record{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Key: string(m.Key), Type: dlt.Header(m, envelope.HeaderType),
		Reason: dlt.Header(m, dlt.HeaderReason), Error: dlt.Header(m, dlt.HeaderError), Attempts: dlt.Header(m, dlt.HeaderAttempts),
		FailedAt: dlt.Header(m, dlt.HeaderFailedAt), Service: dlt.Header(m, dlt.HeaderService), Headers: map[string]string{},
		Origin: dlt.Header(m, dlt.HeaderOriginalTopic) + "/" + dlt.Header(m, dlt.HeaderOriginalPartition) + "/" + dlt.Header(m, dlt.HeaderOriginalOffset),
		At:     FailedAt(m)}
	for _, h := range m.Headers {
		r.Headers[h.Key] = string(h.Value)
	}
	if json.Valid(m.Value) {
		r.Value = m.Value
	} else {
		r.RawValue = string(m.Value)
	}
	return r
}

// FailedAt is when dead letter m failed: its dlt-failed-at header, else
// the record's timestamp.
func FailedAt(m kafka.Message) time.Time {
	if at, err := time.Parse(time.RFC3339Nano, dlt.Header(m, dlt.HeaderFailedAt)); err == nil {
		return at
	}
	return m.Time
}

// Where is the record's place: topic/partition/offset.
func (r Record) Where() string {
	return dlt.Origin{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset}.String()
}
