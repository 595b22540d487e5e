package consumer

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/retry"
)

// Fetcher is the part of *kafka.Reader the consumer uses.
type Fetcher interface {
	FetchMessage(ctx context.Context) (kafka.Message, error)
	CommitMessages(ctx context.Context, msgs ...kafka.Message) error
	Close() error
}

var _ Fetcher = (*kafka.Reader)(nil)

// Publisher sends dead-letter records; *kafka.Writer satisfies it.
type Publisher interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// Config configures a Consumer. Zero fields take the defaults documented.
type Config struct {
	// Reader fetches and commits; the consumer closes it when Run ends.
	Reader Fetcher
	// Pool is the service's database.
	Pool *pgxpool.Pool
	// Handler applies each message.
	Handler Handler
	// Middleware wraps Handler for every message, the first outermost,
	// inside the consumer's own: Metrics, Recoverer and Tracing. Optional.
	Middleware []Middleware
	// DeadLetters publishes dead-letter records.
	DeadLetters Publisher
	// DeadLetterTopic names where a record of a topic goes when it fails.
	// Default: the topic name followed by ".dlt".
	DeadLetterTopic func(topic string) string
	// Service names this service in the dlt-service header.
	Service string
	// MaxAttempts is how many times a failing message is tried before it
	// is dead-lettered as an error. Default 5.
	MaxAttempts int
	// BatchSize bounds the messages applied in one transaction. Default 200.
	BatchSize int
	// Workers is how many partitions are applied concurrently. Default 4.
	Workers int
	// Backoff spaces retries. Default retry.Default.
	Backoff retry.Backoff
	// DrainTimeout bounds how long in-flight work may take after Run's
	// context ends. Default 10s.
	DrainTimeout time.Duration
	// Logger receives one line per failure. Default slog.Default().
	Logger *slog.Logger
	// MaxMessageBytes bounds a dead-letter record; a larger one is cut
	// down (dlt.Fit). Default broker.MaxBatchBytes.
	MaxMessageBytes int
	// Lock, when set, takes in tx the locks that the handler will need for
	// the messages of a batch (every one: the inbox claim may find some
	// seen before, whose handler is then not called), all of them before
	// any message is applied and each kind in one global order (sorted
	// keys): two batches that touch the same rows then wait for each
	// other instead of deadlocking. The handler may lock the same things
	// again; a transaction holds its locks already. Lock must skip
	// messages it cannot read: the handler dead-letters them. A Lock that
	// sends a pgx.Batch should start it with postgres.TakePrelude, which
	// puts the inbox claim in the same round trip.
	Lock func(ctx context.Context, tx pgx.Tx, ds []Delivery) error
}

func (c *Config) setDefaults() {
	if c.DeadLetterTopic == nil {
		c.DeadLetterTopic = func(topic string) string { return topic + ".dlt" }
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 200
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.Backoff.Base <= 0 {
		c.Backoff = retry.Default
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = broker.MaxBatchBytes
	}
}

// Validate reports the fields that have no default and are missing.
func (c *Config) Validate() error {
	switch {
	case c.Reader == nil:
		return errors.New("consumer: missing reader")
	case c.Pool == nil:
		return errors.New("consumer: missing pool")
	case c.Handler == nil:
		return errors.New("consumer: missing handler")
	case c.DeadLetters == nil:
		return errors.New("consumer: missing dead-letter publisher")
	case c.Service == "":
		return errors.New("consumer: missing service name")
	}
	return nil
}
