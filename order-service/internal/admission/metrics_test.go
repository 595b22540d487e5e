package admission

import (
	"testing"
	"time"

	"github.com/purchase-saga/messaging/servicetest"
)

func value(t *testing.T, name string) float64 {
	t.Helper()
	s, ok := servicetest.Metric(t, name, nil)
	if !ok || s.Help == "" {
		t.Fatalf("%s: present %v, help %q", name, ok, s.Help)
	}
	return s.Value
}

// The gauges show the limit and target from the start, the sagas in
// flight at every count (even one too idle to adjust the limit on), and
// each refusal counts.
func TestSignalsShowTheControllerState(t *testing.T) {
	c := newTest(Config{InitialLimit: 30, MinLimit: 10, Target: 750 * time.Millisecond})
	if got := value(t, "saga_admission_limit"); got != 30 {
		t.Errorf("saga_admission_limit = %v before any count, want the initial 30", got)
	}
	if got := value(t, "saga_admission_target_seconds"); got != 0.75 {
		t.Errorf("saga_admission_target_seconds = %v, want 0.75", got)
	}
	c.update(InFlight{Count: 7}) // no saga ended, none old: nothing learnt
	if got := value(t, "saga_admission_in_flight"); got != 7 {
		t.Errorf("saga_admission_in_flight = %v, want 7", got)
	}
	c.update(InFlight{Count: 30})
	before := value(t, "saga_admission_refused_total")
	if _, err := c.Admit(); err == nil {
		t.Fatal("admitted at the limit")
	}
	if got := value(t, "saga_admission_refused_total") - before; got != 1 {
		t.Errorf("saga_admission_refused_total moved by %v, want 1", got)
	}
}
