package consumer

import (
	"fmt"
	"strconv"
	"sync"
	"time"
)

// health tracks the work that keeps failing: a batch retried, a dead
// letter the broker does not take. An entry stays from its first failure
// until that work succeeds or is given up.
type health struct {
	mu       sync.Mutex
	troubles map[string]trouble
}

type trouble struct {
	since time.Time
	err   string
}

func healthKey(topic string, partition int) string {
	return topic + "/" + strconv.Itoa(partition)
}

func (h *health) failing(topic string, partition int, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.troubles == nil {
		h.troubles = map[string]trouble{}
	}
	k := healthKey(topic, partition)
	t, ok := h.troubles[k]
	if !ok {
		t.since = time.Now()
	}
	t.err = err.Error()
	h.troubles[k] = t
}

func (h *health) recovered(topic string, partition int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.troubles, healthKey(topic, partition))
}

// Health returns nil unless some work has kept failing for longer than
// stall (a partition whose batch is retried, a dead letter not taken),
// and then names the longest-failing one.
func (c *Consumer) Health(stall time.Duration) error {
	c.health.mu.Lock()
	defer c.health.mu.Unlock()
	var worst string
	var worstT trouble
	for k, t := range c.health.troubles {
		if worst == "" || t.since.Before(worstT.since) {
			worst, worstT = k, t
		}
	}
	if worst == "" || time.Since(worstT.since) <= stall {
		return nil
	}
	return fmt.Errorf("consumer stalled on %s for %s: %s", worst, time.Since(worstT.since).Round(time.Second), worstT.err)
}
