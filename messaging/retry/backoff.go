// Package retry holds the exponential backoff with jitter used by every
// blocking retry: the consumer's, the relay's and the dead-letter writer's.
package retry

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff computes delays that double from Base up to Max, with full jitter
// on the upper half so that retrying instances do not move in lockstep.
type Backoff struct {
	Base time.Duration
	Max  time.Duration
}

// Default is the backoff used when a caller sets none.
var Default = Backoff{Base: 50 * time.Millisecond, Max: 5 * time.Second}

// Delay returns the wait before retry number attempt (1 for the first retry).
func (b Backoff) Delay(attempt int) time.Duration {
	if b.Base <= 0 {
		b = Default
	}
	d := b.Base
	for i := 1; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	if d > b.Max {
		d = b.Max
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// Sleep waits for Delay(attempt) or until ctx is done, returning ctx.Err()
// in the latter case.
func (b Backoff) Sleep(ctx context.Context, attempt int) error {
	return Wait(ctx, b.Delay(attempt))
}

// Wait waits for d or until ctx is done, returning ctx.Err() in the
// latter case.
func Wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
