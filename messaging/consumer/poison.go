package consumer

import (
	"errors"
	"fmt"

	"github.com/purchase-saga/messaging/envelope"
)

// ErrPoison marks a message that can never be applied: a handler wraps it
// (as does any envelope.ErrInvalid) to send the message to the dead-letter
// topic without retrying.
var ErrPoison = errors.New("poison message")

// Poison marks err as one that no retry can cure: the message goes to the
// dead-letter topic at once.
func Poison(err error) error {
	return fmt.Errorf("%w: %w", ErrPoison, err)
}

func isPoison(err error) bool {
	return errors.Is(err, ErrPoison) || errors.Is(err, envelope.ErrInvalid)
}
