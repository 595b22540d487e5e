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

// MarshalJSON writes the steps as one object keyed by step name.
func (s Steps) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, step := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		name, err := json.Marshal(string(step.Name))
		if err != nil {
			return nil, err
		}
		value, err := json.Marshal(step)
		if err != nil {
			return nil, err
		}
		b.Write(name)
		b.WriteByte(':')
		b.Write(value)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an object keyed by step name, keeping the order of
// its keys.
func (s *Steps) UnmarshalJSON(data []byte) error {
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
