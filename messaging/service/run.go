package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/httpjson"
	"github.com/purchase-saga/messaging/inbox"
	"github.com/purchase-saga/messaging/outbox"
	"github.com/purchase-saga/messaging/problem"
	"github.com/purchase-saga/messaging/trace"
)

var (
	relayed = promauto.NewCounter(prometheus.CounterOpts{
		Name: "saga_outbox_published_total",
		Help: "Outbox rows published by this instance's relay.",
	})
	setAside = promauto.NewCounter(prometheus.CounterOpts{
		Name: "saga_outbox_set_aside_total",
		Help: "Outbox rows this instance's relay set aside because the broker refuses them (see sagactl outbox status).",
	})
)

// relayLease is how long the relay may publish after its last round trip
// to the database (outbox.RelayConfig.Lease); its writer's requests are
// bounded by it too.
const relayLease = 5 * time.Second

// stallAfter is how long the relay or a consumer may keep failing before
// /readyz reports the service not ready (Service.stallAfter when set).
const stallAfter = 30 * time.Second

// Run serves app on ln next to the kit's routes (Routes: /healthz,
// /readyz, /metrics, /openapi.json), and runs the outbox relay, the purge
// job, the consumers and the registered workers until ctx ends. Then it
// stops fetching and lets in-flight messages finish, stops the relay,
// shuts HTTP down and closes the pool and the writer, all within the
// configured shutdown timeout. A consumer or the relay that stops before
// then is logged at once, makes /readyz answer 503 naming it, and its
// error is among those Run returns: the service goes on serving what
// still works until it is stopped (and restarted).
func (s *Service) Run(ctx context.Context, ln net.Listener, app http.Handler) error {
	relayWriter := broker.NewBoundedWriter(s.Config.KafkaBrokers, s.Log, relayLease)
	defer relayWriter.Close()
	relay, err := outbox.NewRelay(outbox.RelayConfig{
		DatabaseURL: s.Config.DatabaseURL, Publisher: relayWriter, Logger: s.Log, Lease: relayLease,
		OnPublished: func(n int) { relayed.Add(float64(n)) },
		OnSetAside:  func(n int) { setAside.Add(float64(n)) },
		OnLeader:    s.leads.Store,
	})
	if err != nil {
		return err
	}
	s.relay = supervise("outbox relay", relay)
	offsets := &offsetsPoller{brokers: s.Config.KafkaBrokers, groups: s.groups, deadLetters: s.deadLetters, log: s.Log}
	for _, collector := range []prometheus.Collector{
		outboxCollector{pool: s.Pool},
		instanceCollector{leads: &s.leads, pool: s.Pool, broker: offsets},
	} {
		if err := prometheus.Register(collector); err != nil {
			s.Log.Warn("service metrics not registered", "err", err) // a second service in one process
			continue
		}
		// A stopped service's pool is closed: a collector left behind would
		// fail every later scrape of the process (tests run many services).
		defer prometheus.Unregister(collector)
	}
	if err := s.Every("@hourly", s.purge); err != nil {
		return fmt.Errorf("schedule purge: %w", err)
	}

	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	s.workCtx = workCtx
	var work sync.WaitGroup
	for _, c := range s.consumers {
		c.start(workCtx, &work, s.Log)
	}
	work.Go(func() { offsets.run(workCtx, s.offsetsInterval()) })
	for _, w := range s.workers {
		work.Go(func() {
			if err := w(workCtx); err != nil {
				s.Log.Error("worker stopped", "err", err)
			}
		})
	}
	s.cron.Start()
	relayCtx, stopRelay := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRelay()
	var relayDone sync.WaitGroup
	s.relay.start(relayCtx, &relayDone, s.Log)

	srv := newHTTPServer(s.routes(app), s.Config.HTTPConfig)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	s.Log.Info("service started", "http_addr", ln.Addr().String())

	select {
	case <-ctx.Done():
	case err = <-serveErr:
		s.Log.Error("http server failed", "err", err)
	}
	return errors.Join(err, s.shutdown(srv, stopWork, &work, stopRelay, &relayDone), s.stopped())
}

// stopped returns why the relay and the consumers that stopped before
// shutdown did, or nil.
func (s *Service) stopped() error {
	var errs []error
	for _, w := range append([]*supervised{s.relay}, s.consumers...) {
		if w != nil {
			errs = append(errs, w.stoppedErr())
		}
	}
	return errors.Join(errs...)
}

func (s *Service) shutdown(srv *http.Server, stopWork func(), work *sync.WaitGroup, stopRelay func(), relayDone *sync.WaitGroup) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), s.Config.ShutdownTimeout)
	defer cancel()
	s.Log.Info("shutting down", "timeout", s.Config.ShutdownTimeout.String())
	stopWork()
	<-s.cron.Stop().Done()
	waitCtx(ctx, work)
	stopRelay()
	waitCtx(ctx, relayDone)
	httpErr := srv.Shutdown(ctx)
	_ = s.Writer.Close()
	s.Pool.Close()
	if ctx.Err() != nil {
		return fmt.Errorf("shutdown exceeded %s", s.Config.ShutdownTimeout)
	}
	s.Log.Info("stopped", "took", time.Since(start).String())
	if httpErr != nil {
		return fmt.Errorf("http shutdown: %w", httpErr)
	}
	return nil
}

func waitCtx(ctx context.Context, wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

func (s *Service) purge(ctx context.Context) {
	n, err := outbox.Purge(ctx, s.Pool, s.Config.OutboxRetention)
	if err != nil {
		s.Log.Warn("outbox purge failed", "err", err)
	}
	m, err := inbox.Purge(ctx, s.Pool, s.Config.OutboxRetention)
	if err != nil {
		s.Log.Warn("inbox purge failed", "err", err)
	}
	if n+m > 0 {
		s.Log.Info("purged", "outbox_rows", n, "inbox_rows", m)
	}
}

func (s *Service) routes(app http.Handler) http.Handler {
	mux := http.NewServeMux()
	for pattern, h := range s.kitRoutes() {
		mux.Handle(pattern, h)
	}
	if app != nil {
		mux.Handle("/", app)
	}
	registerRoutes(append(routePatterns(app), Routes()...)...)
	return trace.HTTP(instrumentHTTP(problem.Routed(mux)), s.Log, "/healthz", "/readyz", "/metrics")
}

// routePatterns are the routes of app for the HTTP metrics: its patterns
// when it is a Mux, else the one that hands it every request.
func routePatterns(app http.Handler) []string {
	if m, ok := app.(interface{ Patterns() []string }); ok {
		return m.Patterns()
	}
	if app != nil {
		return []string{"/"}
	}
	return nil
}

func (s *Service) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{"database": "ok", "broker": "ok", "relay": "ok", "consumers": "ok"}
	status := http.StatusOK
	fail := func(check string, err error) {
		checks[check], status = err.Error(), http.StatusServiceUnavailable
	}
	if err := s.Pool.Ping(ctx); err != nil {
		fail("database", err)
	}
	if err := broker.Ping(ctx, s.Config.KafkaBrokers); err != nil {
		fail("broker", err)
	}
	if s.relay != nil {
		if err := s.relay.check(s.stall()); err != nil {
			fail("relay", err)
		}
	}
	var stalled []error
	for _, c := range s.consumers {
		if err := c.check(s.stall()); err != nil {
			stalled = append(stalled, err)
		}
	}
	if err := errors.Join(stalled...); err != nil {
		fail("consumers", err)
	}
	httpjson.JSON(w, status, checks)
}

func (s *Service) offsetsInterval() time.Duration {
	if s.offsetsEvery > 0 {
		return s.offsetsEvery
	}
	return offsetsEvery
}

func (s *Service) stall() time.Duration {
	if s.stallAfter > 0 {
		return s.stallAfter
	}
	return stallAfter
}
