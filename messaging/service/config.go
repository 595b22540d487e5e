// Package service is the runtime every service of the system shares:
// configuration common to all, start-up (database pool, migrations,
// topics), the HTTP server with health, readiness and metrics, the outbox
// relay and purge, the consumers (watched: one that stops or keeps
// failing makes the service unready), and a graceful, bounded shutdown.
package service

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Config is what every service reads from its environment (SPEC section 10).
type Config struct {
	DatabaseURL      string        `env:"DATABASE_URL" required:"true"`
	KafkaBrokers     []string      `env:"KAFKA_BROKERS" default:"127.0.0.1:9092"`
	LogLevel         string        `env:"LOG_LEVEL" default:"info"`
	MaxAttempts      int           `env:"MAX_ATTEMPTS" default:"5"`
	OutboxRetention  time.Duration `env:"OUTBOX_RETENTION" default:"168h"`
	TopicPartitions  int           `env:"TOPIC_PARTITIONS" default:"6"`
	TopicReplication int           `env:"TOPIC_REPLICATION" default:"1"`
	ShutdownTimeout  time.Duration `env:"SHUTDOWN_TIMEOUT" default:"20s"`
	// ConsumerWorkers is how many transactions a consumer runs at once,
	// each over its share of the partitions. One applies everything
	// fetched meanwhile in one batch: the fewest transactions and
	// statements per message, which on a machine of few cores is both the
	// most throughput and the least latency (README, Benchmarks).
	ConsumerWorkers int `env:"CONSUMER_WORKERS" default:"1"`
	// KafkaSessionTimeout is how long a dead consumer keeps its partitions.
	KafkaSessionTimeout time.Duration `env:"KAFKA_SESSION_TIMEOUT" default:"10s"`
	// KafkaCommitInterval is how often consumers commit their offsets in
	// the background; 0 commits after every batch, waiting for the broker.
	KafkaCommitInterval time.Duration `env:"KAFKA_COMMIT_INTERVAL" default:"50ms"`
	// DBMaxConns bounds the service's connection pool.
	DBMaxConns int `env:"DB_MAX_CONNS" default:"16"`
	// PprofAddr, when set, is a loopback address on which net/http/pprof
	// is served (benchmarks take CPU profiles there). Default: off.
	PprofAddr string `env:"PPROF_ADDR"`
	// HTTPConfig holds the HTTP server's timeouts and header limit.
	HTTPConfig
	// Telemetry says where traces are exported, if anywhere.
	Telemetry
}

// Validate reports values that are present but unusable.
func (c *Config) Validate() error {
	var errs []error
	if len(c.KafkaBrokers) == 0 {
		errs = append(errs, errors.New("KAFKA_BROKERS is empty"))
	}
	if _, err := c.Level(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Telemetry.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.KafkaCommitInterval < 0 {
		errs = append(errs, fmt.Errorf("KAFKA_COMMIT_INTERVAL=%s must not be negative", c.KafkaCommitInterval))
	}
	for name, n := range map[string]int{"MAX_ATTEMPTS": c.MaxAttempts, "TOPIC_PARTITIONS": c.TopicPartitions,
		"TOPIC_REPLICATION": c.TopicReplication, "CONSUMER_WORKERS": c.ConsumerWorkers, "DB_MAX_CONNS": c.DBMaxConns} {
		if n < 1 {
			errs = append(errs, fmt.Errorf("%s=%d must be at least 1", name, n))
		}
	}
	if c.OutboxRetention <= 0 || c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("OUTBOX_RETENTION and SHUTDOWN_TIMEOUT must be positive"))
	}
	return errors.Join(errs...)
}

// Level parses LOG_LEVEL.
func (c *Config) Level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return 0, fmt.Errorf("LOG_LEVEL=%q: want debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}
