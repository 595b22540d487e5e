package servicetest_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/outbox"
	"github.com/purchase-saga/messaging/schema"
	"github.com/purchase-saga/messaging/service"
	"github.com/purchase-saga/messaging/servicetest"
)

func migrate(ctx context.Context, db *sql.DB) error {
	return schema.Up(ctx, db)
}

type echo struct {
	N int `json:"n"`
}

// answer replies to "ping" on "out", writes a rejection of "refuse" to
// "out.dlt", and fails "fail" after writing, which must not commit.
func answer(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
	switch d.Message.Type {
	case "ping":
		return outbox.Send(ctx, tx, "out", "pong", d.Message.SagaID, echo{N: 1})
	case "refuse":
		r, err := outbox.NewRecord("out.dlt", "refused", d.Message.SagaID, echo{N: 2})
		if err != nil {
			return err
		}
		return outbox.Write(ctx, tx, consumer.Rejection(d, "out.dlt", "test", "too_big", r.Message))
	}
	if err := outbox.Send(ctx, tx, "out", "lost", d.Message.SagaID, echo{}); err != nil {
		return err
	}
	return errors.New("boom")
}

func TestDeliverCommitsWhatSucceeds(t *testing.T) {
	t.Parallel()
	e := servicetest.NewEnv(t, migrate, answer)
	e.MustDeliver(t, servicetest.NewDelivery(t, "in", "ping", "s1", echo{}))
	e.MustDeliver(t, servicetest.NewDelivery(t, "in", "refuse", "s2", echo{}))
	if err := e.Deliver(servicetest.NewDelivery(t, "in", "fail", "s3", echo{})); err == nil {
		t.Error("deliver of a failing handler returned nil")
	}

	rows := e.Outbox(t)
	if len(rows) != 2 {
		t.Fatalf("outbox has %d rows, want 2 (the failed delivery's row rolled back): %+v", len(rows), rows)
	}
	if r := rows[0]; r.Topic != "out" || r.Key != "s1" || r.Message.Type != "pong" || r.Reason != "" || r.Error != "" {
		t.Errorf("first row = %+v, want pong on out keyed s1 without dead-letter headers", r)
	}
	r := servicetest.CheckRejection(t, servicetest.Outbox(t, e.DB.Pool, "out.dlt"), "out.dlt", "refused", "s2", "too_big")
	if got := servicetest.Data[echo](t, r.Message).N; got != 2 {
		t.Errorf("rejection data n = %d, want 2", got)
	}
}

func TestNewDeliveryNumbersEachOne(t *testing.T) {
	t.Parallel()
	a := servicetest.NewDelivery(t, "in", "ping", "s1", echo{N: 3})
	b := servicetest.NewDelivery(t, "in", "ping", "s1", echo{N: 3})
	if a.Offset == b.Offset || a.Message.ID == b.Message.ID {
		t.Errorf("two deliveries share offset %d or message id %s", a.Offset, a.Message.ID)
	}
	if a.Topic != "in" || a.Key != "s1" || a.Message.SagaID != "s1" || servicetest.Data[echo](t, a.Message).N != 3 {
		t.Errorf("delivery = %+v, want topic in, key and saga s1, data n 3", a)
	}
}

func TestRaceRunsAllAtOnce(t *testing.T) {
	t.Parallel()
	const n = 8
	var waiting atomic.Int64
	release := make(chan struct{})
	errs := servicetest.Race(n, func(i int) error {
		if waiting.Add(1) == n {
			close(release)
		}
		select {
		case <-release:
		case <-time.After(10 * time.Second):
			return errors.New("the others never started")
		}
		if i%2 == 1 {
			return fmt.Errorf("odd %d", i)
		}
		return nil
	})
	for i, err := range errs {
		if (err != nil) != (i%2 == 1) {
			t.Errorf("errs[%d] = %v", i, err)
		}
	}
}

func TestWidenReplacesThePool(t *testing.T) {
	t.Parallel()
	e := servicetest.NewEnv(t, nil, answer)
	e.Widen(t, 20)
	if got := e.DB.Pool.Config().MaxConns; got != 20 {
		t.Errorf("max conns = %d, want 20", got)
	}
	if err := e.DB.Pool.Ping(context.Background()); err != nil {
		t.Error(err)
	}
}

func TestServerAnswersDoAndAdmin(t *testing.T) {
	t.Parallel()
	s := servicetest.NewServer(t, migrate, func(pool *pgxpool.Pool) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := pool.Ping(r.Context()); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
			w.Header().Set("Content-Type", "application/json")
			if r.Header.Get("Authorization") == "" {
				w.WriteHeader(http.StatusUnauthorized)
			}
			fmt.Fprintf(w, `{"method":%q,"path":%q,"type":%q,"auth":%q}`,
				r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Authorization"))
		})
	})

	r := s.Do(t, http.MethodGet, "/things", "", "", "")
	if r.Status != http.StatusUnauthorized || r.ContentType != "application/json" || r.Body["type"] != "" || r.Body["auth"] != "" {
		t.Errorf("bare GET: %+v, want 401 with neither header sent", r)
	}
	if r.Body["path"] != "/things" {
		t.Errorf("path %v, want /things", r.Body["path"])
	}
	r = servicetest.Admin(t, http.MethodPut, s.URL+"/things/1", `{}`, "t0k")
	if r.Body["method"] != "PUT" || r.Body["type"] != "application/json" || r.Body["auth"] != "Bearer t0k" {
		t.Errorf("admin PUT: %s, want JSON with the bearer token", r.Raw)
	}
	if !strings.HasPrefix(r.Raw, `{"method":"PUT"`) {
		t.Errorf("raw = %q, want the body as sent", r.Raw)
	}
	var tables int
	if err := s.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_tables WHERE tablename = 'outbox'`).Scan(&tables); err != nil || tables != 1 {
		t.Errorf("outbox tables: %d (%v), want the migrated one", tables, err)
	}
}

// TestStartRunsTheWiredService wires a consumer that answers every command
// on commands with a reply on replies, and sends it two and a record
// that is not an envelope.
func TestStartRunsTheWiredService(t *testing.T) {
	wire := func(_ context.Context, s *service.Service, _ struct{}) (http.Handler, error) {
		reply := func(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
			return outbox.Send(ctx, tx, "replies", d.Message.Type+".done", d.Message.SagaID, echo{})
		}
		err := s.Consume(service.Subscription{Topics: []string{"commands"}, Handler: reply, DeadLetterTopic: func(string) string { return "commands.dlt" }})
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, s.Name)
		}), err
	}
	spec := service.Spec[struct{}]{Name: "test-service", Migrate: migrate, Wire: wire,
		Topics: service.Topics{Names: []string{"commands", "replies", "commands.dlt"}}}
	url, b := servicetest.Start(t, spec, struct{}{})

	if r := servicetest.Do(t, http.MethodGet, url+"/anything", "", "", ""); r.Raw != "test-service" {
		t.Errorf("app answered %q (status %d), want test-service", r.Raw, r.Status)
	}
	if r := servicetest.Do(t, http.MethodGet, url+"/readyz", "", "", ""); r.Status != http.StatusOK {
		t.Errorf("readyz: status %d %s, want 200", r.Status, r.Raw)
	}
	servicetest.Send(t, b,
		servicetest.Command(t, "commands", "a", "s1", echo{N: 1}),
		servicetest.Command(t, "commands", "b", "s2", echo{N: 2}),
		kafka.Message{Topic: "commands", Key: []byte("s3"), Value: []byte("not json")})
	if got := servicetest.Types(t, b.ReadAll(t, "replies", 2, 30*time.Second)); got != "a.done,b.done" {
		t.Errorf("replies carries %s, want a.done,b.done", got)
	}
	servicetest.CheckDeadLetters(t, b, "commands.dlt", map[string]string{"s3": "poison from commands"})
}
