package order

import "time"

// scanSteps reads the steps object as PostgreSQL and Steps.MarshalJSON
// write it: objects of steps whose members are plain strings (no escape,
// printable ASCII) among status, reason and updated_at. ok is false for
// anything else, left to encoding/json.
func scanSteps(data []byte) (out Steps, ok bool) {
	sc := scanner{b: data}
	if !sc.next('{') {
		return nil, false
	}
	if sc.next('}') {
		return out, sc.end()
	}
	for {
		name, ok := sc.str()
		if !ok || out.find(StepName(name)) != nil || !sc.next(':') {
			return nil, false
		}
		step := Step{Name: StepName(name)}
		if !sc.step(&step) {
			return nil, false
		}
		out = append(out, step)
		if sc.next(',') {
			continue
		}
		if sc.next('}') {
			return out, sc.end()
		}
		return nil, false
	}
}

// scanner walks a JSON text; i is the next byte.
type scanner struct {
	b []byte
	i int
}

// step reads one step's object into st.
func (sc *scanner) step(st *Step) bool {
	if !sc.next('{') {
		return false
	}
	if sc.next('}') {
		return true
	}
	for {
		key, ok := sc.raw()
		if !ok || !sc.next(':') {
			return false
		}
		v, ok := sc.raw()
		if !ok {
			return false
		}
		switch string(key) {
		case "status":
			st.Status = stepStatus(v)
		case "reason":
			st.Reason = string(v)
		case "updated_at":
			t, err := time.Parse(time.RFC3339Nano, string(v))
			if err != nil {
				return false
			}
			st.UpdatedAt = t
		default:
			return false
		}
		if sc.next(',') {
			continue
		}
		return sc.next('}')
	}
}

// next consumes c, after white space, if it comes next.
func (sc *scanner) next(c byte) bool {
	sc.space()
	if sc.i < len(sc.b) && sc.b[sc.i] == c {
		sc.i++
		return true
	}
	return false
}

// str reads a string without escapes or bytes outside printable ASCII.
func (sc *scanner) str() (string, bool) {
	v, ok := sc.raw()
	return string(v), ok
}

// raw is str's bytes, within the text read.
func (sc *scanner) raw() ([]byte, bool) {
	if !sc.next('"') {
		return nil, false
	}
	for start := sc.i; sc.i < len(sc.b); sc.i++ {
		switch c := sc.b[sc.i]; {
		case c == '"':
			sc.i++
			return sc.b[start : sc.i-1], true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return nil, false
		}
	}
	return nil, false
}

// stepStatus returns the StepStatus v spells, without a copy for the known
// ones.
func stepStatus(v []byte) StepStatus {
	for _, s := range []StepStatus{StepPending, StepSucceeded, StepFailed, StepCompensating, StepCompensated} {
		if string(v) == string(s) {
			return s
		}
	}
	return StepStatus(v)
}

func (sc *scanner) space() {
	for sc.i < len(sc.b) {
		switch sc.b[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

// end reports whether only white space is left.
func (sc *scanner) end() bool {
	sc.space()
	return sc.i == len(sc.b)
}
