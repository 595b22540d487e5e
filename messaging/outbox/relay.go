package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"

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
	// sinceVacuum counts rows marked since the queue was last vacuumed.
	sinceVacuum int
}

// NewRelay validates cfg and returns a relay ready to Run.
func NewRelay(cfg RelayConfig) (*Relay, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Relay{cfg: cfg}, nil
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
		wait := retry.Default.Delay(attempt)
		if led {
			// A leader whose connection failed stands back for two retry
			// intervals, so that a follower polling for the lock takes
			// over rather than the instance whose connection just broke.
			attempt, wait = 1, 2*r.cfg.RetryInterval
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
	return nil
}

// lead connects, waits to win the lock and publishes until the connection
// fails or ctx ends. led reports whether it ever held the lock.
func (r *Relay) lead(ctx context.Context, log *slog.Logger) (led bool, err error) {
	conn, err := pgx.Connect(ctx, r.cfg.DatabaseURL)
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
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
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return true, fmt.Errorf("listen: %w", err)
	}
	return true, r.publishLoop(ctx, conn)
}

func (r *Relay) acquire(ctx context.Context, conn *pgx.Conn) error {
	for {
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, r.cfg.LockKey).Scan(&ok); err != nil {
			return fmt.Errorf("try lock: %w", err)
		}
		if ok {
			return nil
		}
		t := time.NewTimer(r.cfg.RetryInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// publishLoop relays batches back to back while rows are ready, then waits
// for a notification, the poll interval, or a short recheck when rows exist
// that an open transaction still holds back.
func (r *Relay) publishLoop(ctx context.Context, conn *pgx.Conn) error {
	lastVacuum := time.Now()
	for ctx.Err() == nil {
		n, heldBack, err := r.relayBatch(ctx, conn)
		if err != nil {
			return err
		}
		if r.sinceVacuum >= vacuumEvery || (r.sinceVacuum > 0 && time.Since(lastVacuum) > 10*time.Second) {
			// The queue's dead entries would otherwise pile up until the
			// next autovacuum, and every scan starts by walking them.
			if _, err := conn.Exec(ctx, "VACUUM outbox_pending"); err != nil {
				return fmt.Errorf("vacuum queue: %w", err)
			}
			r.sinceVacuum, lastVacuum = 0, time.Now()
		}
		if n == r.cfg.BatchSize {
			continue
		}
		wait := r.cfg.PollInterval
		if heldBack {
			wait = heldBackRecheck
		}
		if err := waitNotification(ctx, conn, wait); err != nil {
			return err
		}
	}
	return nil
}

// vacuumEvery is how many published rows make the leader vacuum the queue.
const vacuumEvery = 5000

// heldBackRecheck is how soon the relay looks again at rows that an open
// transaction holds back: that transaction may commit without notifying.
const heldBackRecheck = 5 * time.Millisecond

func waitNotification(ctx context.Context, conn *pgx.Conn, d time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	_, err := conn.WaitForNotification(wctx)
	if err != nil && wctx.Err() != nil {
		return nil // timed out or cancelled: both end the wait normally
	}
	if err != nil {
		return fmt.Errorf("wait for notification: %w", err)
	}
	return nil
}

type row struct {
	id      int64
	topic   string
	key     string
	value   []byte
	headers []byte
	ready   bool
}

// relayBatch publishes the ready prefix of the unpublished rows and marks
// it published. heldBack reports rows that wait for an older transaction.
func (r *Relay) relayBatch(ctx context.Context, conn *pgx.Conn) (n int, heldBack bool, err error) {
	// The window marks the ready prefix: rows up to the first one whose
	// transaction may still be followed by an older one. Rows past it come
	// back without their payload, only to say that something is held back.
	rows, err := conn.Query(ctx, `
		SELECT id, ready, CASE WHEN ready THEN topic END, CASE WHEN ready THEN key END,
		       CASE WHEN ready THEN value END, CASE WHEN ready THEN headers END
		FROM (SELECT o.id, o.topic, o.key, o.value, o.headers,
		             bool_and(o.txid < pg_snapshot_xmin(pg_current_snapshot())) OVER (ORDER BY o.id) AS ready
		      FROM outbox o WHERE o.id = ANY(ARRAY(SELECT id FROM outbox_pending ORDER BY id LIMIT $1))) ranked
		ORDER BY id`, r.cfg.BatchSize)
	if err != nil {
		return 0, false, fmt.Errorf("select rows: %w", err)
	}
	var batch []row
	for rows.Next() {
		var rw row
		var topic, key *string
		if err := rows.Scan(&rw.id, &rw.ready, &topic, &key, &rw.value, &rw.headers); err != nil {
			rows.Close()
			return 0, false, fmt.Errorf("scan row: %w", err)
		}
		if !rw.ready {
			heldBack = true
			break
		}
		rw.topic, rw.key = *topic, *key
		batch = append(batch, rw)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, false, fmt.Errorf("select rows: %w", err)
	}
	if len(batch) == 0 {
		return 0, heldBack, nil
	}
	msgs, ids, err := toMessages(batch)
	if err != nil {
		return 0, false, err
	}
	if err := r.publish(ctx, msgs); err != nil {
		return 0, false, err
	}
	if _, err := conn.Exec(ctx, `WITH done AS (DELETE FROM outbox_pending WHERE id = ANY($1))
		UPDATE outbox SET published_at = now() WHERE id = ANY($1)`, ids); err != nil {
		return 0, false, fmt.Errorf("mark published: %w", err)
	}
	r.sinceVacuum += len(ids)
	if r.cfg.OnPublished != nil {
		r.cfg.OnPublished(len(batch))
	}
	return len(batch), heldBack, nil
}

// publish retries until the broker acknowledges the whole batch: a partial
// failure resends all of it, which the consumers' inboxes absorb.
func (r *Relay) publish(ctx context.Context, msgs []kafka.Message) error {
	for attempt := 1; ; attempt++ {
		err := r.cfg.Publisher.WriteMessages(ctx, msgs...)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.cfg.Logger.Warn("relay publish failed, retrying", "component", "outbox-relay", "rows", len(msgs), "attempt", attempt, "err", err)
		if err := retry.Default.Sleep(ctx, attempt); err != nil {
			return err
		}
	}
}

func toMessages(batch []row) ([]kafka.Message, []int64, error) {
	msgs := make([]kafka.Message, len(batch))
	ids := make([]int64, len(batch))
	for i, rw := range batch {
		var hs map[string]string
		if err := json.Unmarshal(rw.headers, &hs); err != nil {
			return nil, nil, fmt.Errorf("outbox row %d headers: %w", rw.id, err)
		}
		m := kafka.Message{Topic: rw.topic, Key: []byte(rw.key), Value: rw.value}
		for k, v := range hs {
			m.Headers = append(m.Headers, kafka.Header{Key: k, Value: []byte(v)})
		}
		msgs[i], ids[i] = m, rw.id
	}
	return msgs, ids, nil
}
