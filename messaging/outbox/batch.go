package outbox

import (
	"context"
	"time"
)

// batchResult is what one pass of the relay did.
type batchResult struct {
	read     int  // rows read, all ready to publish
	done     int  // rows the broker acknowledged
	setAside int  // rows set aside: the broker refuses them for good
	retry    bool // some rows failed for a passing reason and go out again
}

// relayBatch publishes the rows above the relay's position, sets aside
// what the broker refuses for good, so that one bad row never holds the
// rows behind it, and moves the position past the rows dealt with.
func (r *Relay) relayBatch(ctx context.Context, l *lease) (batchResult, error) {
	t0 := time.Now()
	batch, err := r.readBatch(ctx, l)
	if err != nil || len(batch) == 0 {
		r.cfg.Logger.Debug("relay pass", "ready", 0, "read_ms", ms(time.Since(t0)))
		return batchResult{}, err
	}
	res := batchResult{read: len(batch)}
	t1 := time.Now()
	out, err := r.send(ctx, l, batch)
	if err != nil {
		return res, err
	}
	t2 := time.Now()
	defer func() {
		r.cfg.Logger.Debug("relay pass", "ready", len(batch), "read_ms", ms(t1.Sub(t0)),
			"publish_ms", ms(t2.Sub(t1)), "mark_ms", ms(time.Since(t2)))
	}()
	r.position = advance(r.position, batch, out)
	if len(out.refused) > 0 || time.Since(r.recordedAt) >= r.cfg.RecordInterval {
		if err := r.record(ctx, l, out.refused); err != nil {
			return res, err
		}
	}
	res.done, res.setAside, res.retry = len(out.published), len(out.refused), out.retry
	if r.cfg.OnPublished != nil && res.done > 0 {
		r.cfg.OnPublished(res.done)
	}
	if r.cfg.OnSetAside != nil && res.setAside > 0 {
		r.cfg.OnSetAside(res.setAside)
	}
	return res, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
