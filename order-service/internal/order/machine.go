package order

import (
	"fmt"
	"slices"
	"time"
)

// Outcome is what a participant's reply says about a step.
type Outcome int

// Reply outcomes.
const (
	// Succeeded: the step's done message (stock.reserved, payment.charged).
	Succeeded Outcome = iota + 1
	// Refused: rejected, or the command was dead-lettered for a technical
	// reason; either way the step failed.
	Refused
	// Compensated: the step's undone message (stock.released,
	// payment.refunded).
	Compensated
)

// Reply is a participant's answer for one step.
type Reply struct {
	Step    StepName
	Outcome Outcome
	Reason  string
}

// Decision is what applying a reply or the timeout requires of the saga.
type Decision struct {
	// Changed is false when the input was a duplicate or came too late to
	// matter: nothing is to be saved or sent.
	Changed bool
	// Compensate lists the steps whose compensation must be sent.
	Compensate []StepName
	// Ended is true when this input made the order terminal: its
	// lifecycle event must be emitted.
	Ended bool
}

// Apply applies a reply. Terminal is terminal: a reply after the end only
// moves its step, compensating a success that came late, and never
// changes the order's status. Duplicates change nothing. A reply for a
// step the order does not have is ErrUnknownStep, and changes nothing.
func (o *Order) Apply(r Reply, now time.Time) (Decision, error) {
	// Copies of an order share its steps' array: the change must not
	// show through an earlier copy (one kept to notify or to write).
	o.Steps = slices.Clone(o.Steps)
	s := o.Steps.find(r.Step)
	if s == nil {
		return Decision{}, fmt.Errorf("order %s: reply for step %q: %w", o.ID, r.Step, ErrUnknownStep)
	}
	return o.apply(s, r, now), nil
}

func (o *Order) apply(s *Step, r Reply, now time.Time) Decision {
	var d Decision
	switch r.Outcome {
	case Succeeded:
		switch {
		case s.Status != StepPending && s.Status != StepFailed:
			return d // a duplicate, or already being compensated
		case o.Status == Failed:
			// Late (or, after a replay, renewed) success of a failed order.
			s.Status, s.Reason = StepCompensating, ""
			d.Compensate = append(d.Compensate, r.Step)
		case s.Status == StepFailed:
			return d // cannot happen: a failed step fails its order
		default:
			s.Status, s.Reason = StepSucceeded, ""
		}
	case Refused:
		if s.Status != StepPending {
			return d // a success or a failure was already recorded
		}
		s.Status, s.Reason = StepFailed, r.Reason
	case Compensated:
		if s.Status != StepCompensating {
			return d
		}
		s.Status = StepCompensated
	default:
		return d
	}
	s.UpdatedAt = now
	d.Changed = true
	o.settle(now, s, &d)
	return d
}

// Timeout fails a still-pending order whose deadline has passed. Steps
// that succeeded are compensated now; pending ones when they succeed.
func (o *Order) Timeout(now time.Time) Decision {
	var d Decision
	if o.Status != Pending || now.Before(o.Deadline) {
		return d
	}
	d.Changed = true
	o.Steps = slices.Clone(o.Steps) // as in Apply
	o.fail(now, ReasonTimeout, &d)
	return d
}

// settle ends a pending order once the changed step failed or every step
// succeeded.
func (o *Order) settle(now time.Time, changed *Step, d *Decision) {
	if o.Status != Pending {
		return
	}
	switch {
	case changed.Status == StepFailed:
		o.fail(now, changed.Reason, d)
	case o.allSucceeded():
		o.Status, o.UpdatedAt, d.Ended = Completed, now, true
	}
}

func (o *Order) allSucceeded() bool {
	for _, s := range o.Steps {
		if s.Status != StepSucceeded {
			return false
		}
	}
	return true
}

// fail ends the order and compensates every step that succeeded, in the
// steps' order.
func (o *Order) fail(now time.Time, reason string, d *Decision) {
	o.Status, o.FailureReason, o.UpdatedAt, d.Ended = Failed, reason, now, true
	for i := range o.Steps {
		if s := &o.Steps[i]; s.Status == StepSucceeded {
			s.Status, s.UpdatedAt = StepCompensating, now
			d.Compensate = append(d.Compensate, s.Name)
		}
	}
}
