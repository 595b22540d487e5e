package dlt

import (
	"fmt"

	"github.com/segmentio/kafka-go"
)

// HeaderTruncated, on a dead letter, says what Fit cut to make the record
// small enough for the broker, and how large it was: the original record
// is still where dlt-original-topic, -partition and -offset say, until
// the topic's retention removes it.
const HeaderTruncated = "dlt-truncated"

// keepHeaderBytes is as much of one header's value as Fit keeps when it
// must cut headers.
const keepHeaderBytes = 1 << 10

// Fit returns m cut down to at most limit bytes of key, value and headers,
// as a writer counts them (or as close as the dead-letter headers allow). Large headers other than the dead-letter ones
// are cut first, then the value; what was cut is named in a
// dlt-truncated header. A record that fits is returned as it is.
func Fit(m kafka.Message, limit int) kafka.Message {
	if Size(m) <= limit {
		return m
	}
	before := Size(m)
	out := kafka.Message{Topic: m.Topic, Key: m.Key, Value: m.Value}
	var cutHeaders []string
	for _, h := range m.Headers {
		if h.Key != HeaderTruncated && len(h.Value) > keepHeaderBytes && !isFailureHeader(h.Key) {
			h.Value = h.Value[:keepHeaderBytes]
			cutHeaders = append(cutHeaders, h.Key)
		}
		if h.Key != HeaderTruncated {
			out.Headers = append(out.Headers, h)
		}
	}
	note := fmt.Sprintf("record of %d bytes cut to fit %d", before, limit)
	if len(cutHeaders) > 0 {
		note += fmt.Sprintf("; headers %q kept to %d bytes", cutHeaders, keepHeaderBytes)
	}
	if over := Size(out) + len(HeaderTruncated) + len(note) + 64 - limit; over > 0 {
		keep := max(len(out.Value)-over, 0)
		note += fmt.Sprintf("; value kept to its first %d of %d bytes", keep, len(m.Value))
		out.Value = out.Value[:keep]
	}
	out.Headers = append(out.Headers, kafka.Header{Key: HeaderTruncated, Value: []byte(note)})
	return out
}

// isFailureHeader reports the headers that say why and where a record
// failed: Fit never cuts them (dlt-error is bounded when it is made).
func isFailureHeader(key string) bool {
	switch key {
	case HeaderReason, HeaderError, HeaderOriginalTopic, HeaderOriginalPartition, HeaderOriginalOffset,
		HeaderAttempts, HeaderFailedAt, HeaderService:
		return true
	}
	return false
}

// Size is what a writer counts for m against its batch limit: key, value,
// and each header's key and value.
func Size(m kafka.Message) int {
	n := len(m.Key) + len(m.Value)
	for _, h := range m.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return n
}
