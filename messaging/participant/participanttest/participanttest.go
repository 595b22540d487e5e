// Package participanttest is the conformance suite of a saga participant
// (SPEC section 6, "Participants obey"), run against every service that
// uses messaging/participant, as watermill's pub/sub tests run against
// every backend: a service describes itself in a Harness and calls Run.
// The suite speaks only of the step's topics and types and of the state
// the harness reads, so that every rule is checked the same way for
// every participant.
package participanttest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/participant"
	"github.com/purchase-saga/messaging/testdb"
)

// Participant is what the suite drives: a participant.Participant of any
// effect.
type Participant interface {
	Handle(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error
	Lock(ctx context.Context, tx pgx.Tx, ds []consumer.Delivery) error
}

// Harness is a participant service under test.
type Harness struct {
	// Step is the participant's step, whose topics and types the suite
	// sends and expects.
	Step participant.Step
	// Open returns a fresh database with the service's schema, dropped
	// when t ends, and the participant over it.
	Open func(t *testing.T) (*testdb.DB, Participant)
	// Seed prepares db so that an action Command(saga, false, ...)
	// succeeds, for a few dozen sagas, and one Command(saga, true, ...)
	// is refused until Allow.
	Seed func(t *testing.T, db *testdb.DB)
	// Allow changes db so that the refused action succeeds from then on.
	Allow func(t *testing.T, db *testdb.DB)
	// Command returns the data of an action for saga: one that succeeds
	// once seeded, or, refused, one that Seed refuses; deadline is zero
	// for none.
	Command func(saga string, refused bool, deadline time.Time) any
	// Compensation returns the data of the compensation of saga.
	Compensation func(saga string) any
	// State reads what the effects left in db: the resources they change
	// (not the records of what was done), as text to compare.
	State func(t *testing.T, db *testdb.DB) string
}

// Run checks every rule of a participant against h, each in a parallel
// subtest on a database of its own.
func Run(t *testing.T, h Harness) {
	for _, c := range []struct {
		name string
		test func(*testing.T, *env)
	}{
		{"ActionHasOneEffectWhateverIsDeliveredAgain", actionOnce},
		{"CompensationUndoesOnce", compensationOnce},
		{"CompensationBeforeActionLeavesTombstone", tombstone},
		{"RejectionIsNotSticky", notSticky},
		{"CompensationOfRefusedActionChangesNothing", compensateRefused},
		{"BatchOfActionsAndCompensations", batch},
		{"ActionAfterDeadlineIsRefusedAsExpired", deadline},
		{"ActionAndCompensationRacing", racing},
		{"UnreadableMessagesArePoison", poison},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.test(t, newEnv(t, h))
		})
	}
}
