// Package admission keeps order-service within what the deployment can
// finish: a new saga is admitted only while the sagas in flight stay under
// a limit that adapts to how fast sagas actually end (SPEC section 12).
//
// The limit is learnt as TCP Vegas and Netflix's concurrency-limits learn
// one, from latency: here the latency that matters is a saga's time from
// POST to its end, not the HTTP answer's. While sagas end within Target the
// limit grows (by its square root each interval, when it is being used);
// when they take longer it shrinks in proportion (Target/latency, at most
// halving). When no saga ends at all while some are in flight, the age of
// the oldest one stands for the latency, so a stalled deployment sheds
// load too. The sagas in flight are counted in the shared database, so
// every instance sees the same number and the deployment as a whole stays
// near its limit.
package admission

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"
)

// Config tunes a Controller; zero fields take the defaults documented.
type Config struct {
	// Target is the saga latency (POST to terminal) to stay under.
	// Default 1s.
	Target time.Duration
	// MinLimit and MaxLimit bound the limit of sagas in flight. Defaults
	// 20 and 10,000.
	MinLimit, MaxLimit int
	// InitialLimit is the limit before anything was learnt. Default 200.
	InitialLimit int
	// Interval is how often the controller reads the sagas in flight and
	// adjusts the limit. Default 100ms.
	Interval time.Duration
	// Disabled admits every order (the limit still learns, for metrics).
	Disabled bool
	// Logger receives errors reading the database. Default slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Target <= 0 {
		c.Target = time.Second
	}
	if c.MinLimit <= 0 {
		c.MinLimit = 20
	}
	if c.MaxLimit <= 0 {
		c.MaxLimit = 10_000
	}
	if c.InitialLimit <= 0 {
		c.InitialLimit = 200
	}
	c.InitialLimit = min(max(c.InitialLimit, c.MinLimit), c.MaxLimit)
	if c.Interval <= 0 {
		c.Interval = 100 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// InFlight is what the database says of the sagas in flight.
type InFlight struct {
	Count int64
	// OldestAge is the age of the oldest one, zero when none.
	OldestAge time.Duration
}

// Counter reads the sagas in flight of the whole deployment.
type Counter func(ctx context.Context) (InFlight, error)

// ErrOverloaded is returned by Admit when the limit is reached.
var ErrOverloaded = errors.New("admission: too many sagas in flight")

// Controller decides admissions; see the package comment.
type Controller struct {
	cfg   Config
	count Counter

	mu       sync.Mutex
	limit    float64
	inFlight InFlight
	admitted int64 // since the last count
	latency  time.Duration
	samples  []time.Duration
}

// New returns a controller that counts the sagas in flight with count.
func New(cfg Config, count Counter) *Controller {
	cfg.setDefaults()
	// The gauges show the limit it starts from, not 0 until it first adjusts.
	limitGauge.Set(float64(cfg.InitialLimit))
	targetGauge.Set(cfg.Target.Seconds())
	return &Controller{cfg: cfg, count: count, limit: float64(cfg.InitialLimit)}
}

// Admit reports whether one more saga may start now; when not, it returns
// ErrOverloaded and how long the client should wait before trying again.
func (c *Controller) Admit() (retryAfter time.Duration, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.cfg.Disabled && float64(c.inFlight.Count+c.admitted) >= c.limit {
		refused.Inc()
		return c.retryAfter(), ErrOverloaded
	}
	c.admitted++
	return 0, nil
}

// retryAfter is about how long the sagas in flight need to make room: the
// observed latency, at least a second (Retry-After counts in seconds).
func (c *Controller) retryAfter() time.Duration {
	return max(time.Second, min(c.latency, 30*time.Second)).Round(time.Second)
}

// Observe records the latency of a saga that ended; call it once the end
// is committed.
func (c *Controller) Observe(latency time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.samples) < 10_000 {
		c.samples = append(c.samples, latency)
	}
}

// Run reads the sagas in flight and adjusts the limit every interval
// until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		qctx, cancel := context.WithTimeout(ctx, 5*c.cfg.Interval)
		f, err := c.count(qctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				c.cfg.Logger.Warn("admission: counting sagas in flight", "err", err)
			}
			continue
		}
		c.update(f)
	}
}

// update takes a new count of the sagas in flight and adjusts the limit
// from the latencies observed since the last one.
func (c *Controller) update(f InFlight) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inFlight, c.admitted = f, 0
	inFlightGauge.Set(float64(f.Count)) // every count, idle or not
	latency, ok := median(c.samples)
	c.samples = c.samples[:0]
	switch {
	case ok:
		c.latency = latency
	case f.Count > 0 && f.OldestAge > c.cfg.Target:
		c.latency = f.OldestAge // nothing ends: the oldest saga's age is the latency
	default:
		return // idle, or too little evidence to learn from
	}
	switch {
	case c.latency > c.cfg.Target:
		c.limit *= max(0.5, float64(c.cfg.Target)/float64(c.latency))
	case float64(f.Count) >= c.limit/2:
		c.limit += math.Sqrt(c.limit)
	}
	c.limit = min(max(c.limit, float64(c.cfg.MinLimit)), float64(c.cfg.MaxLimit))
	limitGauge.Set(c.limit)
	latencyGauge.Set(c.latency.Seconds())
}

// Limit returns the current limit and the sagas in flight it is held to.
func (c *Controller) Limit() (limit int, inFlight int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return int(c.limit), c.inFlight.Count + c.admitted
}

func median(ds []time.Duration) (time.Duration, bool) {
	if len(ds) == 0 {
		return 0, false
	}
	s := make([]time.Duration, len(ds))
	copy(s, ds)
	slices.Sort(s)
	return s[len(s)/2], true
}
