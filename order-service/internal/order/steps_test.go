package order

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// A reply for a step the order does not have is refused, never applied to
// another step.
func TestReplyOfAnUnknownStepIsAnError(t *testing.T) {
	o := newOrder()
	before := o
	before.Steps = append(Steps(nil), o.Steps...)
	for _, outcome := range []Outcome{Succeeded, Refused, Compensated} {
		d, err := o.Apply(Reply{Step: Shipping, Outcome: outcome, Reason: "x"}, t0)
		if !errors.Is(err, ErrUnknownStep) || d.Changed {
			t.Errorf("outcome %d of an unknown step: %+v, %v; want ErrUnknownStep and no change", outcome, d, err)
		}
	}
	if !reflect.DeepEqual(o, before) {
		t.Errorf("order changed by replies of an unknown step: %+v, was %+v", o, before)
	}
}

func TestNewRefusesNoStepsAndStepsNamedTwice(t *testing.T) {
	lines := []Line{{ItemID: "a", Quantity: 1, UnitPriceCents: 1}}
	for _, steps := range [][]StepName{nil, {Stock, Stock}, {Stock, ""}} {
		if _, err := New("o", "c", lines, "EUR", steps, t0, timeout); err == nil {
			t.Errorf("New with steps %q: no error", steps)
		}
	}
}

// Steps are one JSON object keyed by step name, in the table's order
// (SPEC section 5), and read back as they were.
func TestStepsAreAnObjectKeyedByName(t *testing.T) {
	o := newOrderOf(Stock, Payment, Shipping)
	if _, err := o.Apply(Reply{Step: Payment, Outcome: Refused, Reason: "insufficient_funds"}, t0); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(o.Steps)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"stock":{"status":"PENDING","reason":"","updated_at":"2026-01-01T12:00:00Z"},` +
		`"payment":{"status":"FAILED","reason":"insufficient_funds","updated_at":"2026-01-01T12:00:00Z"},` +
		`"shipping":{"status":"PENDING","reason":"","updated_at":"2026-01-01T12:00:00Z"}}`
	if string(b) != want {
		t.Errorf("steps encode as\n%s\nwant\n%s", b, want)
	}
	var back Steps
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, o.Steps) {
		t.Errorf("steps read back as %+v, want %+v", back, o.Steps)
	}
	for _, bad := range []string{`[]`, `{"stock":{},"stock":{}}`, `{"stock":1}`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("steps %s read without error", bad)
		}
	}
}

// An order's copies do not share a change: a copy kept before a reply
// (to notify, to write) keeps the state it had.
func TestACopyKeepsItsSteps(t *testing.T) {
	o := newOrder()
	kept := o
	if _, err := o.Apply(Reply{Step: Stock, Outcome: Succeeded}, t0); err != nil {
		t.Fatal(err)
	}
	if got := status(kept, Stock); got != StepPending {
		t.Errorf("a copy taken before the reply shows stock %s, want PENDING", got)
	}
	kept = o
	o.Timeout(t0.Add(timeout))
	if got := status(kept, Stock); got != StepSucceeded {
		t.Errorf("a copy taken before the timeout shows stock %s, want SUCCEEDED", got)
	}
}

// Steps are read alike whether the fast scanner or encoding/json reads
// them: as PostgreSQL writes them, with escapes, with text outside ASCII,
// with members the scanner leaves to encoding/json.
func TestStepsScannerReadsAsEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{"stock": {"reason": "", "status": "PENDING", "updated_at": "2026-01-01T12:00:00.123456Z"}, "payment": {"reason": "insufficient_funds", "status": "FAILED", "updated_at": "2026-01-01T13:00:00Z"}}`,
		`{"stock":{"status":"FAILED","reason":"error: \"x\"\n","updated_at":"2026-01-01T12:00:00+02:00"}}`,
		`{"stock":{"status":"FAILED","reason":"épuisé","updated_at":"2026-01-01T12:00:00Z"}}`,
		`{"stock":{"status":"PENDING","reason":"","updated_at":"2026-01-01T12:00:00Z","extra":1}}`,
		` { } `,
		`{"stock":{}}`,
	} {
		var fast, slow Steps
		if err := fast.UnmarshalJSON([]byte(in)); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if err := slow.decode([]byte(in)); err != nil {
			t.Fatalf("%s: encoding/json: %v", in, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("%s read as\n%+v\nencoding/json reads\n%+v", in, fast, slow)
		}
	}
	// What the scanner writes, encoding/json reads back the same, escapes
	// included.
	o := newOrderOf(Stock, Payment)
	o.Steps[0].Reason = "error: <\"x\">\n\u00e9"
	b, err := json.Marshal(o.Steps)
	if err != nil {
		t.Fatal(err)
	}
	var back Steps
	if err := back.decode(b); err != nil || !reflect.DeepEqual(back, o.Steps) {
		t.Errorf("%s read back as %+v (%v), want %+v", b, back, err, o.Steps)
	}
}
