package outbox

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/purchase-saga/messaging/retry"
)

// Relay publishes committed outbox rows of one database. Several relays may
// run against one database; only the holder of the advisory lock publishes.
type Relay struct {
	cfg RelayConfig
	// position is the id up to which every row was published or set
	// aside, as the leader knows it; recorded is the position last stored
	// (outbox_relay.published_to), at recordedAt.
	position, recorded int64
	recordedAt         time.Time
	// failures counts consecutive passes in which the broker failed rows.
	failures int
	// lastOK is when (Unix nanoseconds) the relay last did its job: a
	// pass that left nothing to retry, or, as a follower, a lock attempt.
	lastOK  atomic.Int64
	lastErr atomic.Value // string
	// scans counts the reads of the outbox, for tests of the relay's pacing.
	scans atomic.Int64
}

// NewRelay validates cfg and returns a relay ready to Run.
func NewRelay(cfg RelayConfig) (*Relay, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Relay{cfg: cfg}
	r.healthy()
	return r, nil
}

// healthy records that the relay is doing its job.
func (r *Relay) healthy() { r.lastOK.Store(time.Now().UnixNano()) }

// Health returns nil when the relay did its job within the last stall
// (leading and publishing, or following and able to ask for the lock),
// and otherwise says for how long it has not, and why.
func (r *Relay) Health(stall time.Duration) error {
	since := time.Since(time.Unix(0, r.lastOK.Load()))
	if since <= stall {
		return nil
	}
	why, _ := r.lastErr.Load().(string)
	return fmt.Errorf("outbox relay stalled for %s: %s", since.Round(time.Second), why)
}

// Run competes for leadership and, while it leads, publishes rows. It
// returns nil when ctx is cancelled.
func (r *Relay) Run(ctx context.Context) error {
	log := r.cfg.Logger.With("component", "outbox-relay")
	for attempt := 1; ctx.Err() == nil; attempt++ {
		led, err := r.lead(ctx, log)
		if ctx.Err() != nil {
			return nil
		}
		log.Warn("relay connection lost", "err", err, "was_leader", led)
		r.lastErr.Store(err.Error())
		wait := retry.Default.Delay(attempt)
		if led {
			// A leader whose connection failed stands back for two retry
			// intervals, so that a follower polling for the lock takes
			// over rather than the instance whose connection just broke.
			attempt, wait = 1, 2*r.cfg.RetryInterval
		}
		if retry.Wait(ctx, wait) != nil {
			return nil
		}
	}
	return nil
}
