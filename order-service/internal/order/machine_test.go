package order

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

const timeout = 30 * time.Second

func newOrder() Order {
	o, err := New("o1", "c1", []Line{{ItemID: "book", Quantity: 2, UnitPriceCents: 500}}, "EUR", t0, timeout)
	if err != nil {
		panic(err) // a fixed, small order always prices
	}
	return o
}

// event is a reply, or the timeout when timeout is true.
type event struct {
	reply   Reply
	timeout bool
}

func (e event) String() string {
	if e.timeout {
		return "timeout"
	}
	return fmt.Sprintf("%s/%d", e.reply.Step, e.reply.Outcome)
}

// run applies events in order; every compensation the machine asks for is
// acknowledged (twice: acknowledgements may be duplicated too) right after.
func run(o *Order, events []event) (ends int, compensations []StepName) {
	now := t0
	for _, e := range events {
		now = now.Add(time.Second)
		var d Decision
		if e.timeout {
			d = o.Timeout(t0.Add(timeout))
		} else {
			d = o.Apply(e.reply, now)
		}
		if d.Ended {
			ends++
		}
		for _, step := range d.Compensate {
			compensations = append(compensations, step)
			o.Apply(Reply{Step: step, Outcome: Compensated}, now)
			o.Apply(Reply{Step: step, Outcome: Compensated}, now)
		}
	}
	return ends, compensations
}

func permutations(events []event) [][]event {
	if len(events) <= 1 {
		return [][]event{slices.Clone(events)}
	}
	var out [][]event
	for i := range events {
		rest := append(slices.Clone(events[:i]), events[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]event{events[i]}, p...))
		}
	}
	return out
}

func reply(step StepName, ok bool) event {
	if ok {
		return event{reply: Reply{Step: step, Outcome: Succeeded}}
	}
	return event{reply: Reply{Step: step, Outcome: Refused, Reason: string(step) + "_refused"}}
}

// TestCompensationMatrix walks every row of SPEC section 6's matrix: each
// combination of outcomes, in every arrival order, with every reply
// delivered twice, with and without the timeout at every position.
func TestCompensationMatrix(t *testing.T) {
	for _, stockOK := range []bool{true, false} {
		for _, paymentOK := range []bool{true, false} {
			for _, withTimeout := range []bool{false, true} {
				events := []event{reply(Stock, stockOK), reply(Payment, paymentOK), reply(Stock, stockOK), reply(Payment, paymentOK)}
				if withTimeout {
					events = append(events, event{timeout: true})
				}
				for _, seq := range permutations(events) {
					name := fmt.Sprintf("stock_ok=%v/payment_ok=%v/%v", stockOK, paymentOK, seq)
					t.Run(name, func(t *testing.T) { checkRow(t, seq, stockOK, paymentOK) })
				}
			}
		}
	}
}

func checkRow(t *testing.T, seq []event, stockOK, paymentOK bool) {
	o := newOrder()
	ends, comps := run(&o, seq)

	// What the spec says should happen, read off the arrival order.
	var firstFailure string
	successes, timedOut := 0, false
	seen := map[StepName]bool{}
	for _, e := range seq {
		if e.timeout {
			if firstFailure == "" && successes < 2 {
				timedOut = true
				firstFailure = ReasonTimeout
			}
			continue
		}
		if seen[e.reply.Step] {
			continue
		}
		seen[e.reply.Step] = true
		if e.reply.Outcome == Refused && firstFailure == "" {
			firstFailure = e.reply.Reason
		}
		if e.reply.Outcome == Succeeded && firstFailure == "" {
			successes++
		}
	}
	completed := stockOK && paymentOK && !timedOut

	if got, want := ends, 1; got != want {
		t.Fatalf("order ended %d times, want %d", got, want)
	}
	wantStatus, wantReason := Failed, firstFailure
	if completed {
		wantStatus, wantReason = Completed, ""
	}
	if o.Status != wantStatus || o.FailureReason != wantReason {
		t.Errorf("order %s (%q), want %s (%q)", o.Status, o.FailureReason, wantStatus, wantReason)
	}
	var wantComps []StepName
	for _, c := range []struct {
		step StepName
		ok   bool
	}{{Stock, stockOK}, {Payment, paymentOK}} {
		s := *o.step(c.step)
		var want StepStatus
		switch {
		case !c.ok:
			want = StepFailed
		case completed:
			want = StepSucceeded
		default:
			want = StepCompensated
			wantComps = append(wantComps, c.step)
		}
		if s.Status != want {
			t.Errorf("%s step %s, want %s", c.step, s.Status, want)
		}
	}
	slices.Sort(comps)
	slices.Sort(wantComps)
	if !slices.Equal(comps, wantComps) {
		t.Errorf("compensations %v, want %v (each exactly once)", comps, wantComps)
	}
}

func TestSingleReplies(t *testing.T) {
	tests := []struct {
		name       string
		events     []event
		status     Status
		stock      StepStatus
		payment    StepStatus
		compensate []StepName
	}{
		{"pending until both reply", []event{reply(Stock, true)}, Pending, StepSucceeded, StepPending, nil},
		{"one failure fails the order at once", []event{reply(Payment, false)}, Failed, StepPending, StepFailed, nil},
		{"a late success after the failure is compensated", []event{reply(Payment, false), reply(Stock, true)},
			Failed, StepCompensated, StepFailed, []StepName{Stock}},
		{"a late failure after the failure needs nothing", []event{reply(Payment, false), reply(Stock, false)},
			Failed, StepFailed, StepFailed, nil},
		{"a rejection is not sticky: a replayed success is compensated",
			[]event{reply(Stock, false), reply(Payment, false), reply(Stock, true)},
			Failed, StepCompensated, StepFailed, []StepName{Stock}},
		{"terminal is terminal: a failure after completion changes nothing",
			[]event{reply(Stock, true), reply(Payment, true), reply(Payment, false)},
			Completed, StepSucceeded, StepSucceeded, nil},
		{"timeout with nothing back fails and compensates nothing", []event{{timeout: true}},
			Failed, StepPending, StepPending, nil},
		{"timeout compensates a step that succeeded", []event{reply(Payment, true), {timeout: true}},
			Failed, StepPending, StepCompensated, []StepName{Payment}},
		{"a success after the timeout is compensated", []event{{timeout: true}, reply(Stock, true), reply(Payment, false)},
			Failed, StepCompensated, StepFailed, []StepName{Stock}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrder()
			_, comps := run(&o, tt.events)
			if o.Status != tt.status || o.Steps.Stock.Status != tt.stock || o.Steps.Payment.Status != tt.payment {
				t.Errorf("order %s stock %s payment %s, want %s %s %s", o.Status, o.Steps.Stock.Status,
					o.Steps.Payment.Status, tt.status, tt.stock, tt.payment)
			}
			if !slices.Equal(comps, tt.compensate) {
				t.Errorf("compensations %v, want %v", comps, tt.compensate)
			}
		})
	}
}

func TestTimeoutBeforeDeadlineAndAcknowledgementWithoutCompensation(t *testing.T) {
	o := newOrder()
	if d := o.Timeout(t0.Add(timeout - time.Millisecond)); d.Changed || o.Status != Pending {
		t.Errorf("timeout before the deadline changed the order: %+v", o)
	}
	if d := o.Apply(Reply{Step: Stock, Outcome: Compensated}, t0); d.Changed {
		t.Errorf("an acknowledgement of a compensation never sent changed the order")
	}
	o.Apply(Reply{Step: Stock, Outcome: Succeeded}, t0)
	o.Apply(Reply{Step: Payment, Outcome: Succeeded}, t0)
	if d := o.Timeout(t0.Add(time.Hour)); d.Changed || o.Status != Completed {
		t.Errorf("timeout after completion changed the order: %s", o.Status)
	}
}

func TestAmountIsPricedFromLines(t *testing.T) {
	o, err := New("o", "c", []Line{{ItemID: "a", Quantity: 2, UnitPriceCents: 250}, {ItemID: "b", Quantity: 1, UnitPriceCents: 99}}, "EUR", t0, timeout)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := o.AmountCents, int64(599); got != want {
		t.Errorf("amount %d, want %d", got, want)
	}
}
