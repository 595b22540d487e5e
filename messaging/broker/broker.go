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

// NewWriter returns a synchronous writer that waits for all in-sync
// replicas, places keys with Murmur2 as Kafka's own clients do, and sends a
// call's messages without waiting for more (BatchTimeout 1 ms).
func NewWriter(brokers []string, log *slog.Logger) *kafka.Writer {
	return &kafka.Writer{
		Addr:                   kafka.TCP(brokers...),
		Balancer:               &kafka.Murmur2Balancer{},
		RequiredAcks:           kafka.RequireAll,
		BatchSize:              1000,
		BatchBytes:             16 << 20,
		BatchTimeout:           time.Millisecond,
		WriteTimeout:           10 * time.Second,
		ReadTimeout:            10 * time.Second,
		MaxAttempts:            10,
		AllowAutoTopicCreation: false,
		ErrorLogger:            errorLogger(log, "kafka writer"),
	}
}

// ReaderOptions tune a group reader; zero fields take defaults.
type ReaderOptions struct {
	// SessionTimeout bounds how long a dead member keeps its partitions.
	// Default 10s (Kafka's and kfake's minimum is 6s).
	SessionTimeout time.Duration
}

// NewReader returns a consumer-group reader over topics that starts a new
// group at the earliest offset and leaves committing to the caller.
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

// EnsureTopics creates the topics that do not exist yet; items-style
// compacted topics get cleanup.policy=compact. Existing topics are left as
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
