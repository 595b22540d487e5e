package admission

import (
	"errors"
	"testing"
	"time"
)

func newTest(cfg Config) *Controller {
	cfg.Interval = time.Hour // the test calls update itself
	return New(cfg, nil)
}

func TestAdmitRefusesAtTheLimitUntilSagasEnd(t *testing.T) {
	c := newTest(Config{InitialLimit: 30, MinLimit: 10})
	c.update(InFlight{Count: 25})
	for i := range 5 {
		if _, err := c.Admit(); err != nil {
			t.Fatalf("admission %d under the limit: %v", i, err)
		}
	}
	retry, err := c.Admit()
	if !errors.Is(err, ErrOverloaded) {
		t.Fatalf("admission at the limit: %v, want ErrOverloaded", err)
	}
	if retry < time.Second {
		t.Errorf("Retry-After %v, want at least a second", retry)
	}
	c.update(InFlight{Count: 10}) // sagas ended meanwhile
	if _, err := c.Admit(); err != nil {
		t.Errorf("admission after sagas ended: %v", err)
	}
}

func TestLimitGrowsWhileSagasEndWithinTarget(t *testing.T) {
	c := newTest(Config{Target: time.Second, InitialLimit: 100})
	for range 10 {
		c.Observe(200 * time.Millisecond)
		c.update(InFlight{Count: 90}) // the limit is in use
	}
	if limit, _ := c.Limit(); limit <= 150 {
		t.Errorf("limit %d after ten fast intervals at the limit, want it grown past 150", limit)
	}
	// A limit nobody uses does not grow.
	c = newTest(Config{Target: time.Second, InitialLimit: 100})
	for range 10 {
		c.Observe(200 * time.Millisecond)
		c.update(InFlight{Count: 5})
	}
	if limit, _ := c.Limit(); limit != 100 {
		t.Errorf("limit %d while barely used, want 100 kept", limit)
	}
}

func TestLimitShrinksWhenSagasTakeLongerThanTarget(t *testing.T) {
	c := newTest(Config{Target: time.Second, InitialLimit: 400, MinLimit: 20})
	c.Observe(1200 * time.Millisecond)
	c.Observe(1600 * time.Millisecond)
	c.Observe(2 * time.Second)
	c.update(InFlight{Count: 400})
	if limit, _ := c.Limit(); limit != 250 {
		t.Errorf("limit %d after a median latency of 1.6s for a 1s target, want 400/1.6 = 250", limit)
	}
	c.Observe(5 * time.Second)
	c.update(InFlight{Count: 400})
	if limit, _ := c.Limit(); limit != 125 {
		t.Errorf("limit %d after a latency of 5s, want at most halved: 125", limit)
	}
	for range 20 {
		c.Observe(10 * time.Second)
		c.update(InFlight{Count: 400})
	}
	if limit, _ := c.Limit(); limit != 20 {
		t.Errorf("limit %d, want the floor of 20", limit)
	}
}

func TestAStalledDeploymentShedsLoad(t *testing.T) {
	c := newTest(Config{Target: time.Second, InitialLimit: 400})
	// Nothing ends; the oldest saga in flight is 4s old.
	c.update(InFlight{Count: 300, OldestAge: 4 * time.Second})
	if limit, _ := c.Limit(); limit != 200 {
		t.Errorf("limit %d with nothing ending for 4s, want it halved to 200", limit)
	}
	// An idle deployment learns nothing.
	c.update(InFlight{})
	if limit, _ := c.Limit(); limit != 200 {
		t.Errorf("limit %d after an idle interval, want 200 kept", limit)
	}
}

func TestDisabledAdmitsEverything(t *testing.T) {
	c := newTest(Config{InitialLimit: 20, MinLimit: 20, Disabled: true})
	c.update(InFlight{Count: 1000})
	if _, err := c.Admit(); err != nil {
		t.Errorf("disabled controller refused: %v", err)
	}
}
