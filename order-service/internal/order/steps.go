package order

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Steps is the state of an order's steps, in the order the saga's table
// lists them. A slice rather than a map, so that compensations and the
// JSON object (SPEC section 5: steps{stock, payment}) keep that order.
type Steps []Step

// Get returns the step named name; ok is false when the order has none.
func (s Steps) Get(name StepName) (step Step, ok bool) {
	if p := s.find(name); p != nil {
		return *p, true
	}
	return Step{}, false
}

// find returns the step named name, to change in place; nil when there is
// none.
func (s Steps) find(name StepName) *Step {
	for i := range s {
		if s[i].Name == name {
			return &s[i]
		}
	}
	return nil
}

// MarshalJSON writes the steps as one object keyed by step name, each
// step as encoding/json writes a Step. It is written by hand: every order
// the saga stores is encoded, and reflection cost several times more.
func (s Steps) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 100*len(s)+2)
	b = append(b, '{')
	for i, step := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, string(step.Name))
		b = append(b, `:{"status":`...)
		b = appendString(b, string(step.Status))
		b = append(b, `,"reason":`...)
		b = appendString(b, step.Reason)
		at, err := step.UpdatedAt.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("order: step %q: %w", step.Name, err)
		}
		b = append(b, `,"updated_at":`...)
		b = append(b, at...)
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

// appendString appends v as a JSON string: as is when it is printable
// ASCII without a quote or backslash, else as encoding/json writes it.
func appendString(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			quoted, _ := json.Marshal(v) // a string always marshals
			return append(b, quoted...)
		}
	}
	b = append(b, '"')
	b = append(b, v...)
	return append(b, '"')
}

// UnmarshalJSON reads an object keyed by step name, keeping the order of
// its keys. The objects PostgreSQL and MarshalJSON write are read by a
// scanner of their own (every order the saga reads is decoded); anything
// else by encoding/json's decoder, which also names what is wrong.
func (s *Steps) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil // as encoding/json leaves what null is read into
	}
	if out, ok := scanSteps(data); ok {
		*s = out
		return nil
	}
	return s.decode(data)
}

// decode is UnmarshalJSON through encoding/json.
func (s *Steps) decode(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("order: steps are not a JSON object")
	}
	var out Steps
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("order: steps: %w", err)
		}
		name := StepName(t.(string)) // inside an object every key is a string
		if out.find(name) != nil {
			return fmt.Errorf("order: step %q twice", name)
		}
		step := Step{Name: name}
		if err := dec.Decode(&step); err != nil {
			return fmt.Errorf("order: step %q: %w", name, err)
		}
		out = append(out, step)
	}
	*s = out
	return nil
}
