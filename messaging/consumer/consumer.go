// Package consumer runs a consumer group whose every message is applied in
// a database transaction together with its inbox record and any outbox
// rows, and whose offsets are committed only after that transaction.
//
// Messages are fetched into per-partition workers (a partition always goes
// to the same worker, so its order is kept) and applied a batch at a time
// in one transaction. When a batch fails for a reason other than a
// transient one, its messages are applied one by one, so that one bad
// message neither blocks nor poisons its neighbours: a poison message goes
// to the dead-letter topic at once, one that keeps failing after
// MaxAttempts goes there as an error, and transient failures (database or
// broker unreachable, serialization failure, deadlock) are retried with
// backoff for as long as they last, with nothing committed meanwhile.
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
	"github.com/purchase-saga/messaging/dlt"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/outbox"
	"github.com/purchase-saga/messaging/retry"
)

// ErrPoison marks a message that can never be applied: a handler wraps it
// (as does any envelope.ErrInvalid) to send the message to the dead-letter
// topic without retrying.
var ErrPoison = errors.New("poison message")

// Delivery is one decoded message with where it came from.
type Delivery struct {
	Message   envelope.Message
	Topic     string
	Partition int
	Offset    int64
	Key       string
	Headers   map[string]string
	// Raw is the record as fetched, for handlers that forward it.
	Raw kafka.Message
}

// Handler applies one message inside tx. It returns nil when the message
// is applied (or deliberately ignored), an error wrapping ErrPoison when it
// never can be, and any other error to have it retried.
type Handler func(ctx context.Context, tx pgx.Tx, d Delivery) error

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

// Consumer applies messages from a consumer group; see the package comment.
type Consumer struct {
	cfg    Config
	log    *slog.Logger
	health health
}

// New validates cfg and returns a consumer ready to Run.
func New(cfg Config) (*Consumer, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Consumer{cfg: cfg, log: cfg.Logger.With("component", "consumer")}, nil
}

// Run fetches and applies messages until ctx ends, then lets in-flight
// batches finish (within DrainTimeout), closes the reader and returns nil.
func (c *Consumer) Run(ctx context.Context) error {
	queues := make([]chan kafka.Message, c.cfg.Workers)
	done := make(chan struct{}, c.cfg.Workers)
	// Workers outlive ctx by up to DrainTimeout to finish their batch.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	for i := range queues {
		queues[i] = make(chan kafka.Message, c.cfg.BatchSize)
		go func(q chan kafka.Message) {
			c.work(ctx, workCtx, q)
			done <- struct{}{}
		}(queues[i])
	}
	c.fetch(ctx, queues)
	for _, q := range queues {
		close(q)
	}
	drain := time.AfterFunc(c.cfg.DrainTimeout, cancelWork)
	for range queues {
		<-done
	}
	drain.Stop()
	if err := c.cfg.Reader.Close(); err != nil {
		c.log.Warn("close reader", "err", err)
	}
	return nil
}

func (c *Consumer) fetch(ctx context.Context, queues []chan kafka.Message) {
	for attempt := 1; ; {
		m, err := c.cfg.Reader.FetchMessage(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			// Not a stall of this consumer's own: the reader reconnects by
			// itself, and /readyz checks the broker. (A failed fetch
			// followed by a fetch waiting for messages that do not come
			// would otherwise look like a stall for ever.)
			c.log.Warn("fetch failed", "err", err)
			_ = c.cfg.Backoff.Sleep(ctx, attempt)
			attempt++
			continue
		}
		attempt = 1
		select {
		case queues[worker(m, len(queues))] <- m:
		case <-ctx.Done():
			return
		}
	}
}

// worker picks a message's worker by partition number alone: topics with
// the same partition count put a key on the same partition number, so the
// replies of one order on different topics are applied by one worker, in
// turn, instead of contending for the order's row from two.
func worker(m kafka.Message, n int) int {
	return m.Partition % n
}

// work applies batches from q. After stop ends it finishes the batch in
// hand with workCtx and drops what is queued: uncommitted, it comes again.
func (c *Consumer) work(stop, workCtx context.Context, q chan kafka.Message) {
	for first := range q {
		if stop.Err() != nil {
			continue
		}
		batch := []kafka.Message{first}
	fill:
		for len(batch) < c.cfg.BatchSize {
			select {
			case m, ok := <-q:
				if !ok {
					break fill
				}
				batch = append(batch, m)
			default:
				break fill
			}
		}
		if err := c.handleBatch(stop, workCtx, batch); err != nil {
			c.log.Warn("batch abandoned, offsets not committed", "messages", len(batch), "err", err)
		}
	}
}

// Origin returns where d was read, for dead-letter headers.
func (d Delivery) Origin() dlt.Origin {
	return dlt.Origin{Topic: d.Topic, Partition: d.Partition, Offset: d.Offset}
}

// maxOriginalValue bounds the refused command a rejection carries: a
// larger one is left out (a replay of that rejection then has nothing to
// retry), so that the rejection always fits in a message.
const maxOriginalValue = 64 << 10

// Rejection returns the outbox record of a business rejection of d: msg on
// topic (a .dlt) with dlt-reason "rejected", reason as dlt-error and the
// refused command in dlt-original-value, keyed like d. Written in the
// handler's transaction, it is the reply.
func Rejection(d Delivery, topic, service, reason string, msg envelope.Message) outbox.Record {
	headers := dlt.Failure{
		Reason: dlt.ReasonRejected, Err: reason, Origin: d.Origin(), Attempts: 1, Service: service, At: time.Now(),
	}.Headers()
	if len(d.Raw.Value) <= maxOriginalValue {
		headers[dlt.HeaderOriginalValue] = string(d.Raw.Value)
	}
	return outbox.Record{Topic: topic, Key: d.Key, Message: msg, Headers: headers}
}
