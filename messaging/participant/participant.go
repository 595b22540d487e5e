// Package participant is the flow every participant of an orchestrated
// saga obeys (SPEC section 6, "Participants obey"), written once: a
// command (the action) and its compensation are applied in the consumer's
// transaction under the saga's lock; a duplicate or replayed action is
// answered as the first was; a compensation before its action leaves a
// tombstone, after which the action is refused as cancelled; a refusal
// records nothing, so that a replay may succeed later; an action past its
// saga's deadline is refused as expired. Every answer is written to the
// outbox in the transaction of the effect it reports.
//
// A service declares only what is its own: its unit of work, its Effect
// (how to read and apply its action, what its replies carry) and its
// Records (the store's methods that read, undo and tombstone what it did
// for a saga). The topics and message types come from the service as a
// Step.
package participant

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/consumer"
)

// Step is one participant's part of the saga: the topics its messages
// travel on and their types. Its fields are those of the saga's published
// step, in the same order, so that a service converts its step to a Step
// without this package knowing the saga.
type Step struct {
	// Name names the step in logs.
	Name string
	// Command and Compensation are the topics the participant consumes.
	Command, Compensation string
	// Replies carries the done and undone answers, Rejections (a
	// dead-letter topic) the refusals and failures.
	Replies, Rejections string
	// The message types: the action and its compensation, their answers,
	// and the refusal.
	CommandType, CompensationType, DoneType, UndoneType, RejectedType string
}

// Status is what a participant has done for a saga, as its store says.
type Status int

// The statuses. Undone and Tombstone are final: an action after either
// is refused as cancelled.
const (
	// None: the participant never acted on the saga.
	None Status = iota
	// Done: the action's effect holds.
	Done
	// Undone: the action was compensated.
	Undone
	// Tombstone: the compensation came before any action.
	Tombstone
)

// Reasons of the refusals the flow itself decides, as they travel.
const (
	// ReasonCancelled refuses an action whose compensation came first.
	ReasonCancelled = "cancelled"
	// ReasonExpired refuses an action that came after its saga's deadline.
	ReasonExpired = "expired"
)

// Refusal is a business "no" to an action: nothing was changed.
type Refusal struct {
	Reason string
	Detail string
}

// Command is an action as its Effect read it from a delivery.
type Command[C any] struct {
	// Saga keys the action, its lock, its record and its answers.
	Saga string
	// Deadline is when the saga gives up (zero: never): an action that
	// arrives later is refused as expired.
	Deadline time.Time
	// Locks are the keys of the rows Apply will lock, taken for a whole
	// batch before any of its messages is applied (see Records.LockBatch).
	Locks []string
	// Value is the action itself.
	Value C
}

// Effect is what one participant service does, U its unit of work (the
// repositories of one transaction, made by Spec.Unit of the consumer's),
// C its action and P what it records of an action (its prior effect).
// Every method that takes u runs in the consumer's transaction, under the
// saga's lock.
type Effect[U, C, P any] interface {
	// Command reads and validates d's action. An error wraps
	// consumer.ErrPoison: no retry can cure it.
	Command(d consumer.Delivery) (Command[C], error)
	// Apply applies cmd, which has no prior effect, and returns what it
	// recorded; a refusal comes back with nothing changed.
	Apply(ctx context.Context, u U, cmd Command[C]) (P, *Refusal, error)
	// Done returns the data of the answer to an action that holds.
	Done(saga string, p P) any
	// Undone returns the data of the answer to a compensation; p is the
	// prior effect as the compensation found it (the zero P when none).
	Undone(saga string, p P) any
	// Rejected returns the data of the answer to a refused action.
	Rejected(saga string, r Refusal) any
}

// Records is how the flow reads and changes, in a unit of work U, what a
// participant did for each saga: the compensation side, whose logic is
// the flow's and whose statements are the store's. Its functions are the
// store's methods, taken as method expressions ((*Store).Release), so
// that the store keeps its domain's names.
type Records[U, P any] struct {
	// LockBatch takes, in one round trip, the locks of a batch: those of
	// sagas (in one global order), the rows of locks and those the
	// compensated sagas' effects hold, and reads sagas' prior effects. The
	// batch's commands then find them without a round trip of their own.
	LockBatch func(u U, ctx context.Context, sagas, locks, compensated []string) error
	// Read returns what was done for saga; found is false when nothing
	// was, not even a tombstone.
	Read func(u U, ctx context.Context, saga string) (p P, found bool, err error)
	// Status is the flow's status of a record Read found.
	Status func(p P) Status
	// Undo reverts p, whose status is Done.
	Undo func(u U, ctx context.Context, p P) error
	// Tombstone records that saga was compensated before any action.
	Tombstone func(u U, ctx context.Context, saga string) error
}

// prior returns what was done for saga, and its status.
func (r Records[U, P]) prior(ctx context.Context, u U, saga string) (P, Status, error) {
	p, found, err := r.Read(u, ctx, saga)
	if err != nil || !found {
		return p, None, err
	}
	return p, r.Status(p), nil
}

// Spec describes a participant to New.
type Spec[U, C, P any] struct {
	Step    Step
	Effect  Effect[U, C, P]
	Records Records[U, P]
	// Unit returns the service's unit of work over the consumer's
	// transaction, through which Effect and Records go.
	Unit func(pgx.Tx) U
	// Compensation reads d's compensation and returns its saga; an error
	// wraps consumer.ErrPoison (see DecodeCompensation).
	Compensation func(d consumer.Delivery) (saga string, err error)
	// Service names the service in the dead-letter headers of its
	// refusals.
	Service string
	// Cancelled is the detail of the refusal of an action whose
	// compensation came first.
	Cancelled string
}

// Participant applies one step's actions and compensations; Handle and
// Lock are its consumer.Handler and consumer.Config.Lock.
type Participant[U, C, P any] struct {
	spec Spec[U, C, P]
}

// New returns the participant spec describes.
func New[U, C, P any](spec Spec[U, C, P]) *Participant[U, C, P] {
	return &Participant[U, C, P]{spec: spec}
}

// Step returns the participant's step.
func (p *Participant[U, C, P]) Step() Step { return p.spec.Step }
