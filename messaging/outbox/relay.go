package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/retry"
)

// Publisher sends a batch of messages and returns once all are acknowledged.
// *kafka.Writer satisfies it.
type Publisher interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

var _ Publisher = (*kafka.Writer)(nil)

// RelayConfig configures a Relay. Zero fields take the defaults documented.
type RelayConfig struct {
	// DatabaseURL names the database whose outbox is relayed. The relay
	// holds one connection of its own for the advisory lock, LISTEN and its
	// queries, so that losing that connection also loses leadership.
	DatabaseURL string
	// Publisher receives the rows.
	Publisher Publisher
	// LockKey is the advisory lock that elects one relay per database.
	// Default: 0x6f7574626f78 ("outbox").
	LockKey int64
	// BatchSize bounds the rows read and published at once. Default 500.
	BatchSize int
	// PollInterval is the fallback wake-up when no notification arrives.
	// Default 1s.
	PollInterval time.Duration
	// RetryInterval is how often a follower tries to take the lock.
	// Default 1s.
	RetryInterval time.Duration
	// Logger receives leadership changes and errors. Default slog.Default().
	Logger *slog.Logger
	// OnPublished, when set, is told how many rows each batch published.
	OnPublished func(n int)
	// OnSetAside, when set, is told how many rows were set aside because
	// the broker refuses them for good.
	OnSetAside func(n int)
	// MaxMessageBytes bounds one message (key, value and headers); a
	// larger row is set aside without being sent. Default
	// broker.MaxBatchBytes, which the services' writers allow.
	MaxMessageBytes int
	// RecordInterval is how often the leader stores how far it has
	// published while it publishes: a pass costs no write of its own, and
	// a leader that dies unannounced leaves at most this much to publish
	// again (delivery is at least once; consumers' inboxes drop the
	// copies). A leader that stops cleanly stores it as it goes. Default
	// 100ms.
	RecordInterval time.Duration
	// Lease bounds how long after its last round trip to the database the
	// leader may still publish: every query runs within it, a batch is
	// published only while it lasts and with a deadline at its end. The
	// relay's session asks the server to drop it (tcp_user_timeout and
	// keepalives) only well after a lease, so that a leader cut off from
	// its database stops publishing before the server frees the lock for
	// another. The Publisher must not send after its context ends (see
	// broker.NewBoundedWriter). Default 5s.
	Lease time.Duration
}

func (c *RelayConfig) setDefaults() {
	if c.LockKey == 0 {
		c.LockKey = 0x6f7574626f78
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = broker.MaxBatchBytes
	}
	if c.Lease <= 0 {
		c.Lease = 5 * time.Second
	}
	if c.RecordInterval <= 0 {
		c.RecordInterval = 100 * time.Millisecond
	}
}

// Validate reports a missing database URL or publisher.
func (c *RelayConfig) Validate() error {
	if c.DatabaseURL == "" {
		return errors.New("outbox: relay needs a database url")
	}
	if c.Publisher == nil {
		return errors.New("outbox: relay needs a publisher")
	}
	return nil
}

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

// lead connects, waits to win the lock and publishes until the connection
// fails or ctx ends. led reports whether it ever held the lock.
func (r *Relay) lead(ctx context.Context, log *slog.Logger) (led bool, err error) {
	cfg, err := r.connConfig()
	if err != nil {
		return false, err
	}
	conn, err := r.connect(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if err := r.acquire(ctx, conn); err != nil {
		return false, err
	}
	log.Info("relay is leader")
	defer log.Info("relay stepped down")
	r.failures = 0 // a new lead starts with a fresh backoff
	l := &lease{conn: conn, d: r.cfg.Lease}
	if err := l.exec(ctx, "LISTEN "+Channel); err != nil {
		return true, fmt.Errorf("listen: %w", err)
	}
	if err := r.readPosition(ctx, l); err != nil {
		return true, err
	}
	return true, r.publishLoop(ctx, l)
}

func (r *Relay) connect(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, r.cfg.Lease)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	return conn, nil
}

func (r *Relay) acquire(ctx context.Context, conn *pgx.Conn) error {
	for {
		r.healthy()
		var ok bool
		qctx, cancel := context.WithTimeout(ctx, r.cfg.Lease)
		err := conn.QueryRow(qctx, `SELECT pg_try_advisory_lock($1)`, r.cfg.LockKey).Scan(&ok)
		cancel()
		if err != nil {
			return fmt.Errorf("try lock: %w", err)
		}
		if ok {
			return nil
		}
		if err := retry.Wait(ctx, r.cfg.RetryInterval); err != nil {
			return err
		}
	}
}

// publishLoop relays batches back to back while rows are ready, then waits
// for a notification or the poll interval; after the broker failed some
// rows it waits a growing backoff instead.
func (r *Relay) publishLoop(ctx context.Context, l *lease) error {
	defer r.recordOnLeaving(l)
	var lastPass time.Time
	for ctx.Err() == nil {
		// Under load notifications come faster than passes are worth
		// making: wait out the rest of minPass since the last one, so
		// that each pass publishes (and records, and commits) more rows.
		if wait := minPass - time.Since(lastPass); wait > 0 && retry.Wait(ctx, wait) != nil {
			return nil
		}
		lastPass = time.Now()
		res, err := r.relayBatch(ctx, l)
		if err != nil {
			return err
		}
		wait := r.cfg.PollInterval
		if res.retry {
			// The broker failed some rows for a passing reason: try them
			// again soon, without hammering it.
			r.lastErr.Store("the broker fails some rows; retrying")
			r.failures++
			wait = retry.Default.Delay(r.failures)
		} else {
			r.healthy()
			r.failures = 0
			if res.read == r.cfg.BatchSize {
				continue
			}
		}
		if err := r.idle(ctx, l, wait); err != nil {
			return err
		}
	}
	return nil
}

// idle waits for a notification for up to wait, storing the position once
// its record interval is up if it moved meanwhile.
func (r *Relay) idle(ctx context.Context, l *lease, wait time.Duration) error {
	if r.position != r.recorded {
		due := r.cfg.RecordInterval - time.Since(r.recordedAt)
		if due >= wait {
			_, err := waitNotification(ctx, l.conn, wait)
			return err
		}
		if due > 0 {
			woken, err := waitNotification(ctx, l.conn, due)
			if err != nil || woken {
				return err
			}
			wait -= due
		}
		if err := r.record(ctx, l, nil); err != nil {
			return err
		}
	}
	_, err := waitNotification(ctx, l.conn, wait)
	return err
}

// recordOnLeaving stores the position as a leader steps down, when it
// still can, so that a clean stop leaves nothing to publish again.
func (r *Relay) recordOnLeaving(l *lease) {
	if r.position == r.recorded {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := r.record(ctx, l, nil); err != nil {
		r.cfg.Logger.Debug("relay position not stored on leaving", "component", "outbox-relay", "err", err)
	}
}

// minPass is the least time between two passes of the relay: at a few
// rows a second every row goes out at once, under load rows gather for
// up to this long.
const minPass = 2 * time.Millisecond

// waitNotification waits up to d for a notification and reports whether
// one came.
func waitNotification(ctx context.Context, conn *pgx.Conn, d time.Duration) (bool, error) {
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	_, err := conn.WaitForNotification(wctx)
	if err != nil && wctx.Err() != nil {
		return false, nil // timed out or cancelled: both end the wait normally
	}
	if err != nil {
		return false, fmt.Errorf("wait for notification: %w", err)
	}
	return true, nil
}
