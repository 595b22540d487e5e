package service

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/schema"
	"github.com/purchase-saga/messaging/testbroker"
	"github.com/purchase-saga/messaging/testdb"
)

// readyz returns the answer of s's /readyz.
func readyz(t *testing.T, s *Service) (int, map[string]string) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.ready(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var checks map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &checks); err != nil {
		t.Fatalf("readyz body %q: %v", rec.Body, err)
	}
	return rec.Code, checks
}

// waitUnready polls /readyz until check says want, or fails the test.
func waitUnready(t *testing.T, s *Service, check, want string) map[string]string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, checks := readyz(t, s)
		if code == http.StatusServiceUnavailable && strings.Contains(checks[check], want) {
			return checks
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz %d %v after 10s, want 503 with %s saying %q", code, checks, check, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exits is a runner that returns err as soon as it runs, healthy until then.
type exits struct{ err error }

func (e exits) Run(context.Context) error { return e.err }
func (exits) Health(time.Duration) error  { return nil }

func TestReadyzNamesARelayThatStopped(t *testing.T) {
	db := testdb.New(t, nil)
	b := testbroker.New(t, 1, "events")
	s := &Service{Pool: db.Pool, Config: Config{KafkaBrokers: b.Addrs}, Log: slog.New(slog.DiscardHandler),
		relay: supervise("outbox relay", exits{})}
	if code, checks := readyz(t, s); code != http.StatusOK {
		t.Fatalf("readyz before the relay ran: %d %v, want 200", code, checks)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	s.relay.start(ctx, &wg, s.Log)
	wg.Wait()
	checks := waitUnready(t, s, "relay", "outbox relay stopped: returned before shutdown")
	if checks["consumers"] != "ok" || checks["database"] != "ok" {
		t.Errorf("checks %v: only the relay stopped", checks)
	}
	if err := s.stopped(); err == nil || !strings.Contains(err.Error(), "outbox relay stopped") {
		t.Errorf("stopped() = %v, want the relay's", err)
	}
}

// Work that returns because its context ended is shut down, not stopped.
func TestWorkEndedByShutdownIsNotReportedAsStopped(t *testing.T) {
	w := supervise("consumer of in (group g)", exits{err: context.Canceled})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var wg sync.WaitGroup
	w.start(ctx, &wg, slog.New(slog.DiscardHandler))
	wg.Wait()
	if err := w.check(time.Second); err != nil {
		t.Errorf("check after shutdown: %v, want nil", err)
	}
}

// A consumer that keeps failing (here its inbox is missing, so no batch
// can commit) for longer than the stall window turns /readyz 503 naming
// where it is stuck.
func TestReadyzNamesAConsumerThatKeepsFailing(t *testing.T) {
	db := testdb.New(t, schema.Up)
	b := testbroker.New(t, 1, "in", "in.dlt")
	if _, err := db.Pool.Exec(context.Background(), `ALTER TABLE inbox RENAME TO inbox_away`); err != nil {
		t.Fatal(err)
	}
	s := &Service{Pool: db.Pool, Config: Config{KafkaBrokers: b.Addrs}, Log: slog.New(slog.DiscardHandler),
		stallAfter: 300 * time.Millisecond}
	c := newTestConsumer(t, s, b, broker.NewReader(b.Addrs, "g", []string{"in"}, broker.ReaderOptions{SessionTimeout: time.Second}, nil))
	s.consumers = append(s.consumers, supervise("consumer of in (group g)", c))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	s.consumers[0].start(ctx, &wg, s.Log)
	defer wg.Wait()
	defer cancel()
	send(t, b, "in")
	checks := waitUnready(t, s, "consumers", "consumer stalled on in/0")
	if checks["relay"] != "ok" {
		t.Errorf("checks %v: only the consumer fails", checks)
	}
}

// A service whose consumer stops (its reader closed under it) answers
// /readyz 503 naming that consumer while it goes on serving, and Run
// returns the consumer's error when the service ends.
func TestRunReportsAConsumerThatStopped(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, b := startTestService(t, ctx, Topics{Names: []string{"in", "in.dlt"}})
	r := broker.NewReader(b.Addrs, "g", []string{"in"}, broker.ReaderOptions{SessionTimeout: time.Second}, nil)
	s.consumers = append(s.consumers, supervise("consumer of in (group g)", newTestConsumer(t, s, b, r)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ln, nil) }()
	url := "http://" + ln.Addr().String() + "/readyz"
	if code, body := get(t, url); code != http.StatusOK {
		t.Fatalf("readyz of a running service: %d %s, want 200", code, body)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := get(t, url)
		if code == http.StatusServiceUnavailable && strings.Contains(body, "consumer of in (group g) stopped") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz %d %s 10s after the consumer's reader closed, want 503 naming it", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	err = <-done
	if err == nil || !strings.Contains(err.Error(), "consumer of in (group g) stopped") || !errors.Is(err, io.EOF) {
		t.Errorf("Run returned %v, want the consumer's error", err)
	}
}

func newTestConsumer(t *testing.T, s *Service, b *testbroker.Broker, r *kafka.Reader) *consumer.Consumer {
	t.Helper()
	w := broker.NewWriter(b.Addrs, nil)
	t.Cleanup(func() { _ = w.Close() })
	c, err := consumer.New(consumer.Config{Reader: r, Pool: s.Pool, DeadLetters: w, Service: "test-service",
		Logger:  slog.New(slog.DiscardHandler),
		Handler: func(context.Context, pgx.Tx, consumer.Delivery) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// send publishes a message to topic.
func send(t *testing.T, b *testbroker.Broker, topic string) {
	t.Helper()
	m, err := envelope.New("test.event", "k", map[string]int{"seq": 1})
	if err != nil {
		t.Fatal(err)
	}
	v, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	w := broker.NewWriter(b.Addrs, nil)
	defer w.Close()
	if err := w.WriteMessages(context.Background(), kafka.Message{Topic: topic, Key: []byte("k"), Value: v}); err != nil {
		t.Fatal(err)
	}
}

// startTestService starts a service named test-service with topics on a
// fresh database and broker, as Main would, but not Run.
func startTestService(t *testing.T, ctx context.Context, topics Topics) (*Service, *testbroker.Broker) {
	t.Helper()
	db := testdb.New(t, nil)
	b := testbroker.New(t, 1)
	cfg := Config{DatabaseURL: db.URL, KafkaBrokers: b.Addrs, MaxAttempts: 2, OutboxRetention: time.Hour,
		TopicPartitions: 1, TopicReplication: 1, ShutdownTimeout: 10 * time.Second, ConsumerWorkers: 1, DBMaxConns: 4}
	s, err := Start(ctx, "test-service", cfg, topics, slog.New(slog.DiscardHandler), schema.Up)
	if err != nil {
		t.Fatal(err)
	}
	return s, b
}
