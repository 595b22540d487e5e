package order

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

const timeout = 30 * time.Second

// The saga's two real steps, and a third as a new step would be.
const (
	Stock    StepName = "stock"
	Payment  StepName = "payment"
	Shipping StepName = "shipping"
)

// newOrder returns an order with the two real steps.
func newOrder() Order { return newOrderOf(Stock, Payment) }

func newOrderOf(steps ...StepName) Order {
	o, err := New("o1", "c1", []Line{{ItemID: "book", Quantity: 2, UnitPriceCents: 500}}, "EUR", steps, t0, timeout)
	if err != nil {
		panic(err) // a fixed, small order with distinct steps always prices
	}
	return o
}

// status returns the status of o's step name, "" when it has none.
func status(o Order, name StepName) StepStatus {
	s, _ := o.Steps.Get(name)
	return s.Status
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
// A reply the machine refuses is an error.
func run(o *Order, events []event) (ends int, compensations []StepName, err error) {
	now := t0
	for _, e := range events {
		now = now.Add(time.Second)
		var d Decision
		if e.timeout {
			d = o.Timeout(t0.Add(timeout))
		} else if d, err = o.Apply(e.reply, now); err != nil {
			return ends, compensations, err
		}
		if d.Ended {
			ends++
		}
		for _, step := range d.Compensate {
			compensations = append(compensations, step)
			for range 2 {
				if _, err := o.Apply(Reply{Step: step, Outcome: Compensated}, now); err != nil {
					return ends, compensations, err
				}
			}
		}
	}
	return ends, compensations, nil
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
	walkMatrix(t, Stock, Payment)
}

// TestCompensationMatrixOfThreeSteps walks the same matrix for a saga of
// three steps: the order fails as soon as one step fails, completes when
// all three succeed, and compensates every step that succeeded.
func TestCompensationMatrixOfThreeSteps(t *testing.T) {
	walkMatrix(t, Stock, Payment, Shipping)
}

// walkMatrix walks the matrix for an order of steps: every combination of
// their outcomes, every arrival order of their replies, each delivered
// twice, with and without the timeout at every position.
func walkMatrix(t *testing.T, steps ...StepName) {
	for combo := range 1 << len(steps) {
		ok := make(map[StepName]bool, len(steps))
		var events []event
		for i, step := range steps {
			ok[step] = combo&(1<<i) == 0
			events = append(events, reply(step, ok[step]))
		}
		for _, step := range steps {
			events = append(events, reply(step, ok[step]))
		}
		for _, withTimeout := range []bool{false, true} {
			all := events
			if withTimeout {
				all = append(slices.Clone(events), event{timeout: true})
			}
			for _, seq := range distinct(permutations(all)) {
				name := fmt.Sprintf("%s/%v", outcomes(steps, ok), seq)
				t.Run(name, func(t *testing.T) { checkRow(t, steps, seq, ok) })
			}
		}
	}
}

// distinct drops the sequences equal to an earlier one: with every reply
// delivered twice, each arrival order appears 2^n times.
func distinct(seqs [][]event) [][]event {
	seen := map[string]bool{}
	var out [][]event
	for _, seq := range seqs {
		if key := fmt.Sprint(seq); !seen[key] {
			seen[key] = true
			out = append(out, seq)
		}
	}
	return out
}

func outcomes(steps []StepName, ok map[StepName]bool) string {
	var b strings.Builder
	for i, step := range steps {
		if i > 0 {
			b.WriteByte('/')
		}
		fmt.Fprintf(&b, "%s_ok=%v", step, ok[step])
	}
	return b.String()
}

func checkRow(t *testing.T, steps []StepName, seq []event, ok map[StepName]bool) {
	o := newOrderOf(steps...)
	ends, comps, err := run(&o, seq)
	if err != nil {
		t.Fatal(err)
	}

	// What the spec says should happen, read off the arrival order.
	var firstFailure string
	successes, timedOut := 0, false
	seen := map[StepName]bool{}
	for _, e := range seq {
		if e.timeout {
			if firstFailure == "" && successes < len(steps) {
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
	completed := !timedOut
	for _, step := range steps {
		completed = completed && ok[step]
	}

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
	for _, step := range steps {
		var want StepStatus
		switch {
		case !ok[step]:
			want = StepFailed
		case completed:
			want = StepSucceeded
		default:
			want = StepCompensated
			wantComps = append(wantComps, step)
		}
		if got := status(o, step); got != want {
			t.Errorf("%s step %s, want %s", step, got, want)
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
			_, comps, err := run(&o, tt.events)
			if err != nil {
				t.Fatal(err)
			}
			if o.Status != tt.status || status(o, Stock) != tt.stock || status(o, Payment) != tt.payment {
				t.Errorf("order %s stock %s payment %s, want %s %s %s", o.Status, status(o, Stock),
					status(o, Payment), tt.status, tt.stock, tt.payment)
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
	if d, err := o.Apply(Reply{Step: Stock, Outcome: Compensated}, t0); err != nil || d.Changed {
		t.Errorf("an acknowledgement of a compensation never sent changed the order (err %v)", err)
	}
	for _, step := range []StepName{Stock, Payment} {
		if _, err := o.Apply(Reply{Step: step, Outcome: Succeeded}, t0); err != nil {
			t.Fatal(err)
		}
	}
	if d := o.Timeout(t0.Add(time.Hour)); d.Changed || o.Status != Completed {
		t.Errorf("timeout after completion changed the order: %s", o.Status)
	}
}

func TestAmountIsPricedFromLines(t *testing.T) {
	o, err := New("o", "c", []Line{{ItemID: "a", Quantity: 2, UnitPriceCents: 250}, {ItemID: "b", Quantity: 1, UnitPriceCents: 99}}, "EUR", []StepName{Stock, Payment}, t0, timeout)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := o.AmountCents, int64(599); got != want {
		t.Errorf("amount %d, want %d", got, want)
	}
}
