package consumer

import "fmt"

// DecodeData reads d's data into v and checks that the saga id the data
// names (sagaID, read after decoding) is the envelope's: replies are keyed
// and correlated by that id, so a message that disagrees with itself
// cannot be answered sensibly. Both failures are poison.
func DecodeData(d Delivery, v any, sagaID func() string) error {
	if err := d.Message.DecodeData(v); err != nil {
		return Poison(err)
	}
	return checkSagaID(d, sagaID())
}

// checkSagaID returns a poison error unless id, the saga id a message's
// data names, is its envelope's.
func checkSagaID(d Delivery, id string) error {
	switch {
	case id == "":
		return Poison(fmt.Errorf("%s without its saga id", d.Message.Type))
	case id != d.Message.SagaID:
		return Poison(fmt.Errorf("%s for %q carries saga_id %q", d.Message.Type, id, d.Message.SagaID))
	}
	return nil
}
