package dlt

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/envelope"
)

// ErrNotReplayable marks a dead letter that cannot be sent again: one
// without its original topic, or a business rejection that does not carry
// the command it refused.
var ErrNotReplayable = errors.New("not replayable")

// Replay returns the record to republish for dead letter m: the failed
// command (the record's value, or for a business rejection the refused
// command kept in dlt-original-value) with a fresh message id, on
// dlt-original-topic, keyed as before, with
// replay-of (topic/partition/offset of m) and replayed-at. The dead-letter
// headers are dropped. A value that is not an envelope is sent unchanged
// under a fresh message-id header (it will fail again unless its consumer
// was fixed).
func Replay(m kafka.Message, now time.Time) (kafka.Message, error) {
	value := m.Value
	if Header(m, HeaderReason) == ReasonRejected {
		value = []byte(Header(m, HeaderOriginalValue))
		if len(value) == 0 {
			return kafka.Message{}, fmt.Errorf("%w: the rejection does not carry the command it refused", ErrNotReplayable)
		}
	}
	target := Header(m, HeaderOriginalTopic)
	if target == "" {
		return kafka.Message{}, fmt.Errorf("%w: no %s header", ErrNotReplayable, HeaderOriginalTopic)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return kafka.Message{}, err
	}
	typ := Header(m, envelope.HeaderType)
	if env, err := envelope.Decode(value); err == nil {
		env.ID, typ = id, env.Type
		if value, err = json.Marshal(env); err != nil {
			return kafka.Message{}, err
		}
	}
	out := kafka.Message{Topic: target, Key: m.Key, Value: value}
	for _, h := range m.Headers {
		if strings.HasPrefix(h.Key, "dlt-") || h.Key == envelope.HeaderMessageID || h.Key == envelope.HeaderType ||
			h.Key == HeaderReplayOf || h.Key == HeaderReplayedAt {
			continue
		}
		out.Headers = append(out.Headers, h)
	}
	out.Headers = append(out.Headers,
		kafka.Header{Key: envelope.HeaderMessageID, Value: []byte(id.String())},
		kafka.Header{Key: envelope.HeaderType, Value: []byte(typ)},
		kafka.Header{Key: HeaderReplayOf, Value: []byte(Origin{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}.String())},
		kafka.Header{Key: HeaderReplayedAt, Value: []byte(now.UTC().Format(time.RFC3339Nano))},
	)
	return out, nil
}
