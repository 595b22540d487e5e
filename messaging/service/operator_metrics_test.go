package service_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/schema"
	"github.com/purchase-saga/messaging/service"
	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/messaging/testbroker"
)

// metricsService is a service with one consumer of "work", whose handler
// refuses test.poison as poison and holds test.hold until release closes,
// and an API of one route that answers 404.
func metricsService(release <-chan struct{}) service.Spec[struct{}] {
	handle := func(ctx context.Context, _ pgx.Tx, d consumer.Delivery) error {
		switch d.Message.Type {
		case "test.poison":
			return consumer.Poison(errors.New("refused by the test"))
		case "test.hold":
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	return service.Spec[struct{}]{
		Name:    "metrics-test",
		Topics:  service.Topics{Names: []string{"work", "work.dlt"}},
		Migrate: schema.Up,
		Wire: func(_ context.Context, s *service.Service, _ struct{}) (http.Handler, error) {
			s.SetOffsetsEvery(50 * time.Millisecond)
			mux := service.NewMux()
			mux.HandleFunc("GET /things/{id}", func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "no such thing", http.StatusNotFound)
			})
			return mux, s.Consume(service.Subscription{Topics: []string{"work"}, Handler: handle})
		},
	}
}

// metric returns name summed over its series whose labels include match, failing
// the test when it is missing or has no help text.
func metric(t *testing.T, name string, match map[string]string) float64 {
	t.Helper()
	s, ok := servicetest.Metric(t, name, match)
	if !ok {
		t.Fatalf("no series %s%v", name, match)
	}
	if s.Help == "" {
		t.Errorf("%s has no help text", name)
	}
	return s.Value
}

// eventually waits until name{match} satisfies ok.
func eventually(t *testing.T, name string, match map[string]string, want string, ok func(float64) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s, found := servicetest.Metric(t, name, match)
		if found && ok(s.Value) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s%v = %v (found %v), want %s", name, match, s.Value, found, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A running service's /metrics shows, with their help text: which
// instance leads the relay, its pool, its build, its HTTP routes, its
// consumers' lag and its dead-letter topic's depth; the labelled series
// known in advance exist at zero before their first event, and each
// moves when its event happens.
func TestServiceMetricsShowWhatAnOperatorNeeds(t *testing.T) {
	release := make(chan struct{})
	var releaseOnce sync.Once
	b := testbroker.New(t, 2)
	r := servicetest.StartOn(t, b, metricsService(release), struct{}{})
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) }) // before the service stops

	// Known in advance: at zero before anything happens (once Run has
	// set up its routes: StartOn returns as Run begins).
	eventually(t, "saga_http_requests_total", map[string]string{"route": "GET /things/{id}"}, "a series",
		func(float64) bool { return true })
	for _, s := range []struct {
		name  string
		match map[string]string
	}{
		{"saga_http_requests_total", map[string]string{"route": "GET /things/{id}", "code": "4xx"}},
		{"saga_http_requests_total", map[string]string{"route": "GET /things/{id}", "code": "2xx"}},
		{"saga_http_request_duration_seconds", map[string]string{"route": "GET /things/{id}", "code": "5xx"}},
		{"saga_consumer_handled_total", map[string]string{"topic": "work", "outcome": "poison"}},
		{"saga_consumer_messages_total", map[string]string{"topic": "work"}},
		{"saga_consumer_dead_letters_total", map[string]string{"topic": "work", "reason": "poison"}},
		{"saga_consumer_retries_total", map[string]string{"topic": "work"}},
		{"saga_consumer_conflicts_total", map[string]string{"topic": "work", "code": "40P01"}},
	} {
		if got := metric(t, s.name, s.match); got != 0 {
			t.Errorf("%s%v = %v before any event, want 0", s.name, s.match, got)
		}
	}
	if got := metric(t, "saga_build_info", map[string]string{"service": "metrics-test"}); got != 1 {
		t.Errorf("saga_build_info = %v, want 1", got)
	}
	for _, name := range []string{"saga_db_pool_max_conns", "saga_db_pool_total_conns", "saga_db_pool_idle_conns",
		"saga_db_pool_acquired_conns", "saga_db_pool_acquire_seconds_total", "saga_db_pool_empty_acquires_total",
		"saga_db_pool_empty_acquire_wait_seconds_total", "saga_db_pool_canceled_acquires_total", "saga_db_pool_constructing_conns"} {
		metric(t, name, nil)
	}
	if got := metric(t, "saga_db_pool_max_conns", nil); got != 8 {
		t.Errorf("saga_db_pool_max_conns = %v, want the 8 servicetest configures", got)
	}
	eventually(t, "saga_outbox_relay_leader", nil, "1 (the only instance leads)", func(v float64) bool { return v == 1 })
	eventually(t, "saga_dlt_records", map[string]string{"topic": "work.dlt"}, "0", func(v float64) bool { return v == 0 })
	metric(t, "saga_dlt_records", map[string]string{"topic": "work.dlt"})

	// HTTP: by pattern, never by path; unmatched paths share one label.
	acquires := metric(t, "saga_db_pool_acquires_total", nil)
	healthz := metric(t, "saga_http_requests_total", map[string]string{"route": "GET /healthz", "code": "2xx"})
	unmatched := metric(t, "saga_http_requests_total", map[string]string{"route": "unmatched", "code": "4xx"})
	servicetest.Do(t, http.MethodGet, r.URL+"/healthz", "", "", "")
	servicetest.Do(t, http.MethodGet, r.URL+"/things/42", "", "", "")
	servicetest.Do(t, http.MethodGet, r.URL+"/no/such/path", "", "", "")
	servicetest.Do(t, http.MethodDelete, r.URL+"/things/42", "", "", "")
	servicetest.Do(t, http.MethodGet, r.URL+"/readyz", "", "", "") // pings the pool
	for _, c := range []struct {
		route, code string
		want        float64
	}{{"GET /healthz", "2xx", healthz + 1}, {"GET /things/{id}", "4xx", 1}, {"unmatched", "4xx", unmatched + 2}} {
		match := map[string]string{"route": c.route, "code": c.code}
		if got := metric(t, "saga_http_requests_total", match); got != c.want {
			t.Errorf("saga_http_requests_total%v = %v, want %v", match, got, c.want)
		}
		if got := metric(t, "saga_http_request_duration_seconds", match); got != c.want {
			t.Errorf("saga_http_request_duration_seconds%v counts %v, want %v", match, got, c.want)
		}
	}
	if _, ok := servicetest.Metric(t, "saga_http_requests_total", map[string]string{"route": "/no/such/path"}); ok {
		t.Error("a path no route matches became a label value")
	}
	if got := metric(t, "saga_db_pool_acquires_total", nil); got <= acquires {
		t.Errorf("saga_db_pool_acquires_total stayed at %v across /readyz", got)
	}

	// A poison message: counted, dead-lettered, and the dead-letter topic
	// holds one record.
	servicetest.Send(t, b, servicetest.Command(t, "work", "test.poison", "p1", struct{}{}))
	eventually(t, "saga_dlt_records", map[string]string{"topic": "work.dlt"}, "1", func(v float64) bool { return v == 1 })
	if got := metric(t, "saga_consumer_dead_letters_total", map[string]string{"topic": "work", "reason": "poison"}); got != 1 {
		t.Errorf("saga_consumer_dead_letters_total{work,poison} = %v, want 1", got)
	}

	// Held messages: the group's lag grows while its handler holds them,
	// and goes back to zero once they are applied.
	lagOf := map[string]string{"group": "metrics-test", "topic": "work"}
	eventually(t, "saga_consumer_lag", lagOf, "0 once the poison message is past", func(v float64) bool { return v == 0 })
	var held []kafka.Message
	for range 5 {
		held = append(held, servicetest.Command(t, "work", "test.hold", "h1", struct{}{}))
	}
	servicetest.Send(t, b, held...)
	eventually(t, "saga_consumer_lag", lagOf, "5 while the handler holds them", func(v float64) bool { return v == 5 })
	releaseOnce.Do(func() { close(release) })
	eventually(t, "saga_consumer_lag", lagOf, "0 once they are applied", func(v float64) bool { return v == 0 })
}
