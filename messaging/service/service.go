package service

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/robfig/cron/v3"
	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/messaging/retry"
	"github.com/purchase-saga/messaging/trace"
)

// Service holds a started service's shared resources and the background
// work Run supervises.
type Service struct {
	Name   string
	Config Config
	Log    *slog.Logger
	Pool   *pgxpool.Pool
	// Writer publishes the outbox relay's batches and dead letters.
	Writer *kafka.Writer
	// OpenAPI is the service's OpenAPI document (JSON), served at
	// OpenAPIPath; Main sets it from Spec.OpenAPI.
	OpenAPI []byte

	cron *cron.Cron
	// relay and consumers are set by Run and Consume; /readyz checks them.
	relay     *supervised
	consumers []*supervised
	workers   []func(context.Context) error
	// workCtx is set by Run before any job starts and ends at shutdown.
	workCtx context.Context
	// stallAfter overrides how long the relay or a consumer may keep
	// failing before /readyz says so; tests shorten it.
	stallAfter time.Duration
	// groups are the topics of each consumer group, and deadLetters the
	// dead-letter topics the consumers write: their lag and depth are
	// metrics (see offsetsPoller).
	groups      map[string][]string
	deadLetters []string
	// leads says whether this instance's relay holds the relay lock.
	leads atomic.Bool
	// offsetsEvery overrides offsetsEvery; tests shorten it.
	offsetsEvery time.Duration
}

// startTimeout bounds how long Start waits for the database and broker.
const startTimeout = 2 * time.Minute

// Start connects to the database, applies migrate, creates topics and
// opens the writer, waiting up to two minutes for the database
// and the broker to come up. The service logs on log, its lines written with a
// request's or a message's context carrying their trace and saga ids
// (trace.WithLog).
func Start(ctx context.Context, name string, cfg Config, topics Topics, log *slog.Logger, migrate func(context.Context, *sql.DB) error) (*Service, error) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	log = trace.WithLog(log)
	pool, err := OpenDatabase(ctx, cfg, log, migrate)
	if err != nil {
		return nil, err
	}
	err = waitFor(ctx, log, "broker", func() error {
		return broker.EnsureTopics(ctx, cfg.KafkaBrokers, topics.Names, topics.Compacted,
			broker.TopicOptions{Partitions: cfg.TopicPartitions, Replication: cfg.TopicReplication})
	})
	if err != nil {
		pool.Close()
		return nil, err
	}
	setBuildInfo(name)
	return &Service{
		Name: name, Config: cfg, Log: log, Pool: pool,
		Writer: broker.NewWriter(cfg.KafkaBrokers, log),
		cron:   newCron(log),
	}, nil
}

// OpenDatabase connects to the service's database, waiting for it while
// ctx allows, and applies migrate, again while the database is unreachable
// (a restart or an outage during the migration: each migration runs in a
// transaction, so a lost one is rolled back and is applied anew); an
// error of the migration itself is returned at once.
func OpenDatabase(ctx context.Context, cfg Config, log *slog.Logger, migrate func(context.Context, *sql.DB) error) (*pgxpool.Pool, error) {
	var pool *pgxpool.Pool
	err := waitFor(ctx, log, "database", func() (err error) {
		pool, err = postgres.Connect(ctx, cfg.DatabaseURL, int32(cfg.DBMaxConns))
		return err
	})
	if err != nil {
		return nil, err
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	err = waitFor(ctx, log, "database to migrate", func() error {
		err := migrate(ctx, db)
		if err != nil && !postgres.IsTransient(err) {
			return permanent{err}
		}
		return err
	})
	if err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// permanent is an error waitFor returns at once, unwrapped.
type permanent struct{ error }

func waitFor(ctx context.Context, log *slog.Logger, what string, try func() error) error {
	for attempt := 1; ; attempt++ {
		err := try()
		if err == nil {
			return nil
		}
		var p permanent
		if errors.As(err, &p) {
			return p.error
		}
		log.Warn("waiting for "+what, "attempt", attempt, "err", err)
		if retry.Default.Sleep(ctx, attempt) != nil {
			return fmt.Errorf("%s not available: %w", what, err)
		}
	}
}

// Subscription is one consumer of a service: topics consumed together by
// one member of a consumer group, with their handler.
type Subscription struct {
	Topics  []string
	Handler consumer.Handler
	// DeadLetterTopic names where a failed record of a topic goes.
	DeadLetterTopic func(topic string) string
	// Group is the consumer group. Default: the service's name.
	Group string
	// Middleware wraps Handler for every message (consumer.Config.Middleware).
	// Optional.
	Middleware []consumer.Middleware
	// Lock takes a batch's locks before any of its messages is applied
	// (consumer.Config.Lock). Optional.
	Lock func(ctx context.Context, tx pgx.Tx, ds []consumer.Delivery) error
}

// Consume registers a consumer for sub.
func (s *Service) Consume(sub Subscription) error {
	group := sub.Group
	if group == "" {
		group = s.Name
	}
	c, err := consumer.New(consumer.Config{
		Reader:          broker.NewReader(s.Config.KafkaBrokers, group, sub.Topics, broker.ReaderOptions{SessionTimeout: s.Config.KafkaSessionTimeout, CommitInterval: s.Config.KafkaCommitInterval}, s.Log),
		Pool:            s.Pool,
		Handler:         sub.Handler,
		Middleware:      sub.Middleware,
		Lock:            sub.Lock,
		DeadLetters:     s.Writer,
		DeadLetterTopic: sub.DeadLetterTopic,
		Service:         s.Name,
		MaxAttempts:     s.Config.MaxAttempts,
		Workers:         s.Config.ConsumerWorkers,
		Logger:          s.Log,
	})
	if err != nil {
		return err
	}
	s.consumers = append(s.consumers, supervise(consumerName(group, sub.Topics), c))
	s.watch(group, sub.Topics, sub.DeadLetterTopic)
	return nil
}

// watch pre-registers the consumer metrics of topics and records the
// group's topics and their dead-letter topics for the lag and depth
// metrics.
func (s *Service) watch(group string, topics []string, deadLetterTopic func(string) string) {
	consumer.RegisterTopics(topics...)
	if s.groups == nil {
		s.groups = map[string][]string{}
	}
	s.groups[group] = append(s.groups[group], topics...)
	for _, t := range topics {
		d := t + ".dlt" // the consumer's default
		if deadLetterTopic != nil {
			d = deadLetterTopic(t)
		}
		if !slices.Contains(s.deadLetters, d) {
			s.deadLetters = append(s.deadLetters, d)
		}
	}
}

// consumerName names a consumer in /readyz and the logs, by its topics
// and group: a service may run several.
func consumerName(group string, topics []string) string {
	return fmt.Sprintf("consumer of %s (group %s)", strings.Join(topics, ", "), group)
}

// Go registers background work that runs until its context ends; it is
// stopped together with the consumers.
func (s *Service) Go(work func(context.Context) error) {
	s.workers = append(s.workers, work)
}

// Every schedules job on the service's cron (robfig/cron spec, such as
// "@every 1s"). A job gets a context that ends at shutdown.
func (s *Service) Every(spec string, job func(context.Context)) error {
	_, err := s.cron.AddFunc(spec, func() { job(s.workCtx) })
	return err
}

// NewLogger returns the JSON logger every service uses: a line logged
// with a context carries its trace_id, span_id and saga_id (trace.LogHandler).
func NewLogger(name string, level slog.Level) *slog.Logger {
	h := slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	return slog.New(trace.LogHandler(h)).With("service", name)
}

// newCron returns a cron whose jobs never overlap themselves (a slow sweep
// is skipped, not doubled) and whose panics are logged, not fatal.
func newCron(log *slog.Logger) *cron.Cron {
	logger := cron.PrintfLogger(slog.NewLogLogger(log.Handler(), slog.LevelWarn))
	return cron.New(cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)))
}
