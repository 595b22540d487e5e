// Package broker builds kafka-go writers and readers with the settings the
// saga relies on (acks=all, Murmur2 keys, no batching delay, logged errors)
// and creates topics.
package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
)

// Split parses a comma-separated broker list.
func Split(list string) []string {
	var out []string
	for _, b := range strings.Split(list, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// MaxBatchBytes bounds the bytes a writer puts in one partition's batch,
// and so the size of one message. Brokers refuse a batch over their
// message.max.bytes (about 1 MiB by default): staying well under it, with
// room for the record overhead, means a batch of acceptable messages is
// never refused, and a message over it is refused by the writer before
// anything is sent (kafka.MessageTooLargeError).
const MaxBatchBytes = 512 << 10

// NewWriter returns a synchronous writer that waits for all in-sync
// replicas, places keys with Murmur2 as Kafka's own clients do, and sends a
// call's messages without waiting for more (BatchTimeout 1 ms). It retries
// a failed batch itself, for about ten seconds.
func NewWriter(brokers []string, log *slog.Logger) *kafka.Writer {
	return newWriter(brokers, log, 10, 10*time.Second)
}

// NewBoundedWriter is NewWriter without retries of its own, each request
// bounded by timeout: a batch is either acknowledged or failed within
// about that time, and nothing is sent on its behalf afterwards. The outbox
// relay publishes with it, so that a leader that loses its lease stops
// publishing (see outbox.RelayConfig.Lease).
func NewBoundedWriter(brokers []string, log *slog.Logger, timeout time.Duration) *kafka.Writer {
	return newWriter(brokers, log, 1, timeout)
}

func newWriter(brokers []string, log *slog.Logger, attempts int, timeout time.Duration) *kafka.Writer {
	return &kafka.Writer{
		Addr:                   kafka.TCP(brokers...),
		Balancer:               &kafka.Murmur2Balancer{},
		RequiredAcks:           kafka.RequireAll,
		BatchSize:              1000,
		BatchBytes:             MaxBatchBytes,
		BatchTimeout:           time.Millisecond,
		WriteTimeout:           timeout,
		ReadTimeout:            timeout,
		MaxAttempts:            attempts,
		AllowAutoTopicCreation: false,
		Transport:              &kafka.Transport{DialTimeout: min(timeout, 5*time.Second)},
		ErrorLogger:            errorLogger(log, "kafka writer"),
	}
}

// IsRefused reports whether err says the broker refuses a record for what
// it is (too large, malformed, an invalid topic name), so that sending it
// again can never succeed. Unreachable brokers, leader elections and
// timeouts are not refusals.
func IsRefused(err error) bool {
	var tooLarge kafka.MessageTooLargeError
	if errors.As(err, &tooLarge) {
		return true
	}
	var kerr kafka.Error
	if !errors.As(err, &kerr) {
		return false
	}
	switch kerr {
	case kafka.MessageSizeTooLarge, kafka.RecordListTooLarge, kafka.InvalidRecord,
		kafka.InvalidTopic, kafka.InvalidTimestamp:
		return true
	}
	return false
}

// ReaderOptions tune a group reader; zero fields take defaults.
type ReaderOptions struct {
	// SessionTimeout bounds how long a dead member keeps its partitions.
	// Default 10s (Kafka's and kfake's minimum is 6s).
	SessionTimeout time.Duration
	// CommitInterval, when positive, commits offsets in the background at
	// that interval rather than in each CommitMessages call: a batch's
	// worker then need not wait for the broker before the next batch. A
	// crash replays at most that much more, which the inbox absorbs.
	CommitInterval time.Duration
}

// NewReader returns a consumer-group reader over topics that starts a new
// group at the earliest offset and commits the offsets the caller marks
// (CommitMessages): at once, or every opts.CommitInterval.
func NewReader(brokers []string, group string, topics []string, opts ReaderOptions, log *slog.Logger) *kafka.Reader {
	if opts.SessionTimeout <= 0 {
		opts.SessionTimeout = 10 * time.Second
	}
	return kafka.NewReader(kafka.ReaderConfig{
		Brokers:                brokers,
		GroupID:                group,
		GroupTopics:            topics,
		MinBytes:               1,
		MaxBytes:               8 << 20,
		MaxWait:                500 * time.Millisecond,
		QueueCapacity:          1000,
		StartOffset:            kafka.FirstOffset,
		CommitInterval:         opts.CommitInterval,
		SessionTimeout:         opts.SessionTimeout,
		RebalanceTimeout:       opts.SessionTimeout,
		HeartbeatInterval:      time.Second,
		JoinGroupBackoff:       time.Second,
		ReadBackoffMin:         50 * time.Millisecond,
		ReadBackoffMax:         time.Second,
		WatchPartitionChanges:  true,
		PartitionWatchInterval: 5 * time.Second,
		ErrorLogger:            errorLogger(log, "kafka reader "+group),
	})
}

func errorLogger(log *slog.Logger, who string) kafka.LoggerFunc {
	if log == nil {
		log = slog.Default()
	}
	return func(msg string, args ...any) {
		log.Warn(who+": "+fmt.Sprintf(msg, args...), "component", "kafka")
	}
}

// TopicOptions are the partitions and replication of created topics.
type TopicOptions struct {
	Partitions  int
	Replication int
}

// EnsureTopics creates the topics that do not exist yet; those compacted
// reports get cleanup.policy=compact. Existing topics are left as
// they are.
func EnsureTopics(ctx context.Context, brokers []string, topics []string, compacted func(string) bool, opts TopicOptions) error {
	if opts.Partitions <= 0 {
		opts.Partitions = 1
	}
	if opts.Replication <= 0 {
		opts.Replication = 1
	}
	req := &kafka.CreateTopicsRequest{}
	for _, t := range topics {
		tc := kafka.TopicConfig{Topic: t, NumPartitions: opts.Partitions, ReplicationFactor: opts.Replication}
		if compacted != nil && compacted(t) {
			tc.ConfigEntries = []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}}
		}
		req.Topics = append(req.Topics, tc)
	}
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	resp, err := client.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("broker: create topics: %w", err)
	}
	for t, err := range resp.Errors {
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			return fmt.Errorf("broker: create topic %s: %w", t, err)
		}
	}
	return nil
}

// Ping checks that a broker answers a metadata request.
func Ping(ctx context.Context, brokers []string) error {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 2 * time.Second}
	if _, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{}}); err != nil {
		return fmt.Errorf("broker: metadata: %w", err)
	}
	return nil
}
