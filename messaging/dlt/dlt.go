// Package dlt builds dead-letter records (SPEC section 4 headers) and reads
// them back for listing and replay.
package dlt

import (
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/envelope"
)

// Dead-letter headers, on every record of a .dlt topic.
const (
	HeaderReason            = "dlt-reason"
	HeaderError             = "dlt-error"
	HeaderOriginalTopic     = "dlt-original-topic"
	HeaderOriginalPartition = "dlt-original-partition"
	HeaderOriginalOffset    = "dlt-original-offset"
	HeaderAttempts          = "dlt-attempts"
	HeaderFailedAt          = "dlt-failed-at"
	HeaderService           = "dlt-service"

	// HeaderOriginalValue, on a business rejection, holds the value of the
	// command that was refused, so that replaying the rejection sends the
	// command again (a rejection is not sticky).
	HeaderOriginalValue = "dlt-original-value"

	// HeaderReplayOf and HeaderReplayedAt mark a record republished from a
	// dead-letter topic.
	HeaderReplayOf   = "replay-of"
	HeaderReplayedAt = "replayed-at"
)

// Reasons a record is dead-lettered.
const (
	ReasonRejected = "rejected" // the business said no
	ReasonError    = "error"    // still failing after the maximum attempts
	ReasonPoison   = "poison"   // could not be decoded or is invalid
)

// Origin locates the record that failed.
type Origin struct {
	Topic     string
	Partition int
	Offset    int64
}

// String formats o as topic/partition/offset, the form of replay-of.
func (o Origin) String() string {
	return o.Topic + "/" + strconv.Itoa(o.Partition) + "/" + strconv.FormatInt(o.Offset, 10)
}

// maxError bounds the dlt-error header, in bytes.
const maxError = 1000

// Failure says why and where a record was dead-lettered.
type Failure struct {
	Reason   string
	Err      string
	Origin   Origin
	Attempts int
	Service  string
	At       time.Time
}

// Headers returns the dead-letter headers for f.
func (f Failure) Headers() map[string]string {
	at := f.At
	if at.IsZero() {
		at = time.Now()
	}
	return map[string]string{
		HeaderReason:            f.Reason,
		HeaderError:             envelope.Truncate(f.Err, maxError),
		HeaderOriginalTopic:     f.Origin.Topic,
		HeaderOriginalPartition: strconv.Itoa(f.Origin.Partition),
		HeaderOriginalOffset:    strconv.FormatInt(f.Origin.Offset, 10),
		HeaderAttempts:          strconv.Itoa(f.Attempts),
		HeaderFailedAt:          at.UTC().Format(time.RFC3339Nano),
		HeaderService:           f.Service,
	}
}

// Record copies the failed record m onto topic with f's headers, keeping
// m's key, value and headers other than earlier dead-letter ones.
func Record(topic string, m kafka.Message, f Failure) kafka.Message {
	out := kafka.Message{Topic: topic, Key: m.Key, Value: m.Value}
	for _, h := range m.Headers {
		if !strings.HasPrefix(h.Key, "dlt-") {
			out.Headers = append(out.Headers, h)
		}
	}
	for k, v := range f.Headers() {
		out.Headers = append(out.Headers, kafka.Header{Key: k, Value: []byte(v)})
	}
	return out
}

// Header returns the value of header key in m, or "".
func Header(m kafka.Message, key string) string {
	for i := len(m.Headers) - 1; i >= 0; i-- {
		if m.Headers[i].Key == key {
			return string(m.Headers[i].Value)
		}
	}
	return ""
}
