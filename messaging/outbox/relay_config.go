package outbox

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/broker"
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
	// OnLeader, when set, is told true when this relay wins the lock and
	// false when it steps down (its connection lost, or Run ending).
	OnLeader func(leads bool)
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
