package participanttest

import (
	"errors"
	"testing"
	"time"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/servicetest"
)

// A message of another type, one whose data cannot be read, and one whose
// data names another saga than its envelope are poison: dead-lettered at
// once, unanswered, and without effect.
func poison(t *testing.T, e *env) {
	before := e.state(t)
	s := e.h.Step
	for _, d := range []consumer.Delivery{
		servicetest.NewDelivery(t, s.Command, s.CommandType+".unknown", "s1", e.h.Command("s1", false, time.Time{})),
		servicetest.NewDelivery(t, s.Command, s.CommandType, "s1", "not an object"),
		servicetest.NewDelivery(t, s.Compensation, s.CompensationType, "s1", "not an object"),
		servicetest.NewDelivery(t, s.Command, s.CommandType, "s1", e.h.Command("s2", false, time.Time{})),
		servicetest.NewDelivery(t, s.Compensation, s.CompensationType, "s1", e.h.Compensation("s2")),
	} {
		if err := e.try(d); !errors.Is(err, consumer.ErrPoison) {
			t.Errorf("%s with data %s: err %v, want one wrapping consumer.ErrPoison", d.Message.Type, d.Message.Data, err)
		}
	}
	e.checkState(t, "after poison", before)
	e.checkAnswers(t)
}
