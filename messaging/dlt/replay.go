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

// ErrNotReplayable marks a dead letter that cannot be sent again: a
// business rejection (it is a reply, not the command) or a record without
// its original topic.
var ErrNotReplayable = errors.New("not replayable")

// Replay returns the record to republish for dead letter m: its value
// with a fresh message id, on dlt-original-topic, keyed as before, with
// replay-of (topic/partition/offset of m) and replayed-at. The dead-letter
// headers are dropped. A value that is not an envelope is sent unchanged
// under a fresh message-id header (it will fail again unless its consumer
// was fixed).
func Replay(m kafka.Message, now time.Time) (kafka.Message, error) {
	if Header(m, HeaderReason) == ReasonRejected {
		return kafka.Message{}, fmt.Errorf("%w: a rejected record is the participant's reply, not a command", ErrNotReplayable)
	}
	target := Header(m, HeaderOriginalTopic)
	if target == "" {
		return kafka.Message{}, fmt.Errorf("%w: no %s header", ErrNotReplayable, HeaderOriginalTopic)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return kafka.Message{}, err
	}
	value := m.Value
	if env, err := envelope.Decode(m.Value); err == nil {
		env.ID = id
		if value, err = json.Marshal(env); err != nil {
			return kafka.Message{}, err
		}
	}
	out := kafka.Message{Topic: target, Key: m.Key, Value: value}
	for _, h := range m.Headers {
		if strings.HasPrefix(h.Key, "dlt-") || h.Key == envelope.HeaderMessageID || h.Key == HeaderReplayOf || h.Key == HeaderReplayedAt {
			continue
		}
		out.Headers = append(out.Headers, h)
	}
	out.Headers = append(out.Headers,
		kafka.Header{Key: envelope.HeaderMessageID, Value: []byte(id.String())},
		kafka.Header{Key: HeaderReplayOf, Value: []byte(Origin{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}.String())},
		kafka.Header{Key: HeaderReplayedAt, Value: []byte(now.UTC().Format(time.RFC3339Nano))},
	)
	return out, nil
}
