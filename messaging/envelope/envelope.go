// Package envelope defines the JSON value and the Kafka headers every saga
// message carries (SPEC section 4), and decodes them strictly so that a
// malformed record is recognised as poison before any handler sees it.
package envelope

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Header names carried by every message.
const (
	HeaderMessageID   = "message-id"
	HeaderType        = "type"
	HeaderTraceparent = "traceparent"
)

// ErrInvalid is wrapped by every decoding or validation failure.
var ErrInvalid = errors.New("invalid message")

// Message is the value of every record on a saga topic.
type Message struct {
	ID         uuid.UUID       `json:"id"`
	Type       string          `json:"type"`
	SagaID     string          `json:"saga_id"`
	OccurredAt time.Time       `json:"occurred_at"`
	Data       json.RawMessage `json:"data"`
}

// New builds a message with a fresh UUIDv7 id, stamped now, with data
// marshalled as JSON.
func New(typ, sagaID string, data any) (Message, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Message{}, fmt.Errorf("envelope: marshal %s data: %w", typ, err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Message{}, fmt.Errorf("envelope: new id: %w", err)
	}
	return Message{ID: id, Type: typ, SagaID: sagaID, OccurredAt: time.Now().UTC(), Data: raw}, nil
}

// Encode returns the JSON value of m.
func (m Message) Encode() ([]byte, error) {
	return json.Marshal(m)
}

// Decode parses and validates a record value. A value that is not UTF-8
// or holds a NUL character anywhere is refused at once: no handler could
// store it. Every error wraps ErrInvalid.
func Decode(value []byte) (Message, error) {
	switch {
	case !utf8.Valid(value):
		return Message{}, fmt.Errorf("%w: value is not valid UTF-8", ErrInvalid)
	case ContainsNUL(value):
		return Message{}, fmt.Errorf("%w: value holds a NUL character", ErrInvalid)
	}
	var m Message
	if err := json.Unmarshal(value, &m); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := m.Validate(); err != nil {
		return Message{}, err
	}
	return m, nil
}

// Validate reports a missing id, type, saga id or data as ErrInvalid.
func (m Message) Validate() error {
	switch {
	case m.ID == uuid.Nil:
		return fmt.Errorf("%w: missing id", ErrInvalid)
	case m.Type == "":
		return fmt.Errorf("%w: missing type", ErrInvalid)
	case m.SagaID == "":
		return fmt.Errorf("%w: missing saga_id", ErrInvalid)
	case len(m.Data) == 0 || string(m.Data) == "null":
		return fmt.Errorf("%w: missing data", ErrInvalid)
	}
	return nil
}

// DecodeData unmarshals m.Data into v, reporting failure as ErrInvalid.
func (m Message) DecodeData(v any) error {
	if err := json.Unmarshal(m.Data, v); err != nil {
		return fmt.Errorf("%w: %s data: %v", ErrInvalid, m.Type, err)
	}
	return nil
}
