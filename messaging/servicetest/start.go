// Package servicetest is what the services' tests share: Start runs a
// service in process, wired as its main wires it, on a fresh database and
// broker; Env applies deliveries with a service's handler as the consumer
// would and reads back the outbox; Server serves a service's API over a
// fresh database; and helpers send records, race deliveries and check
// rejections, dead letters and problem answers. It is mechanism only: what
// a service's messages mean stays in that service's tests.
package servicetest

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/dlt"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/service"
	"github.com/purchase-saga/messaging/testbroker"
	"github.com/purchase-saga/messaging/testdb"
)

// AdminToken is the admin token the services' tests give the services Start runs.
const AdminToken = "tok"

// Start runs the service spec describes, with its own settings own, as
// its main does, on a fresh database and broker until the test ends, and
// returns its base URL and the broker. Two attempts before a dead letter
// and two partitions a topic keep the tests short. Under -short it skips
// the test: a whole service (consumer group, relay, HTTP server) is slow.
func Start[C any](t testing.TB, spec service.Spec[C], own C) (string, *testbroker.Broker) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: consumer group, relay and HTTP server")
	}
	r := StartOn(t, testbroker.New(t, 2), spec, own)
	return r.URL, r.Broker
}

// Running is a service StartOn runs for a test.
type Running struct {
	// URL is the base URL of its HTTP server.
	URL string
	// Pool is a pool of its database, for the test to look into.
	Pool *pgxpool.Pool
	// Broker is the broker it runs on.
	Broker *testbroker.Broker
}

// StartOn runs the service as Start does, on a fresh database and on b,
// which other services of the test may share, so that they talk to each
// other as in production.
func StartOn[C any](t testing.TB, b *testbroker.Broker, spec service.Spec[C], own C) Running {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: consumer group, relay and HTTP server")
	}
	db := testdb.New(t, nil)
	cfg := service.Config{DatabaseURL: db.URL, KafkaBrokers: b.Addrs,
		MaxAttempts: 2, OutboxRetention: time.Hour, TopicPartitions: 2, TopicReplication: 1,
		ShutdownTimeout: 10 * time.Second, ConsumerWorkers: 2, DBMaxConns: 8}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})).With("service", spec.Name)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s, err := service.Start(ctx, spec.Name, cfg, spec.Topics, log, spec.Migrate)
	if err != nil {
		t.Fatal(err)
	}
	s.OpenAPI = spec.OpenAPI
	app, err := spec.Wire(ctx, s, own)
	if err != nil {
		s.Pool.Close()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ln, app) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s run: %v", spec.Name, err)
		}
	})
	return Running{URL: "http://" + ln.Addr().String(), Pool: db.Pool, Broker: b}
}

// Send publishes msgs to b, as another service would.
func Send(t testing.TB, b *testbroker.Broker, msgs ...kafka.Message) {
	t.Helper()
	w := broker.NewWriter(b.Addrs, nil)
	defer w.Close()
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

// Command returns a record for topic carrying a fresh message of type typ
// in saga sagaID, keyed and headed as the outbox relay publishes it.
func Command(t testing.TB, topic, typ, sagaID string, data any) kafka.Message {
	t.Helper()
	m, err := envelope.New(typ, sagaID, data)
	if err != nil {
		t.Fatal(err)
	}
	value, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return kafka.Message{Topic: topic, Key: []byte(sagaID), Value: value, Headers: []kafka.Header{
		{Key: envelope.HeaderMessageID, Value: []byte(m.ID.String())}, {Key: envelope.HeaderType, Value: []byte(typ)}}}
}

// CheckDeadLetters reads the dead letters on topic until there are as
// many as want has, and checks that the one keyed k is described by
// want[k], as "<dlt-reason> from <original topic>".
func CheckDeadLetters(t testing.TB, b *testbroker.Broker, topic string, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for _, m := range b.ReadAll(t, topic, len(want), 30*time.Second) {
		got[string(m.Key)] = dlt.Header(m, dlt.HeaderReason) + " from " + dlt.Header(m, dlt.HeaderOriginalTopic)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s for %s: %q, want %q", topic, k, got[k], v)
		}
	}
}

// Types returns the envelope types of msgs, sorted and joined by commas,
// to compare records read from several partitions regardless of order.
func Types(t testing.TB, msgs []kafka.Message) string {
	t.Helper()
	var out []string
	for _, m := range msgs {
		e, err := envelope.Decode(m.Value)
		if err != nil {
			t.Fatalf("record on %s: %v", m.Topic, err)
		}
		out = append(out, e.Type)
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}
