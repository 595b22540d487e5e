// Command order-service serves the orders API and orchestrates the
// purchase saga. Configuration is read from the environment (README).
package main

import (
	"context"
	"net/http"
	"time"

	"github.com/purchase-saga/contract"
	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/service"
	"github.com/purchase-saga/migrations"
	"github.com/purchase-saga/order-service/internal/admission"
	"github.com/purchase-saga/order-service/internal/api"
	"github.com/purchase-saga/order-service/internal/postgres"
	"github.com/purchase-saga/order-service/internal/saga"
)

// settings are order-service's own, beside service.Config.
type settings struct {
	contract.Shop
	SagaTimeout time.Duration `env:"SAGA_TIMEOUT" default:"30s"`
	// SweepEvery is the robfig/cron spec of the timeout sweep.
	SweepEvery string `env:"SWEEP_SCHEDULE" default:"@every 1s"`
	// Admission control (SPEC section 12): the saga latency to stay under,
	// the bounds and start of the learnt limit of sagas in flight, and a
	// switch to admit everything.
	AdmissionTarget       time.Duration `env:"ADMISSION_TARGET" default:"1s"`
	AdmissionMinLimit     int           `env:"ADMISSION_MIN_LIMIT" default:"20"`
	AdmissionMaxLimit     int           `env:"ADMISSION_MAX_LIMIT" default:"10000"`
	AdmissionInitialLimit int           `env:"ADMISSION_INITIAL_LIMIT" default:"200"`
	AdmissionDisabled     bool          `env:"ADMISSION_DISABLED" default:"false"`
}

// spec is the service, for main and the end-to-end test alike.
var spec = service.Spec[settings]{
	Name:        "order-service",
	DefaultAddr: "127.0.0.1:8080",
	Topics:      service.Topics{Names: topic.All, Compacted: topic.Compacted},
	Migrate:     migrations.For(migrations.Order),
	Wire: func(_ context.Context, s *service.Service, cfg settings) (http.Handler, error) {
		return wire(s, cfg)
	},
	OpenAPI: api.OpenAPI,
}

func main() {
	service.Main(spec)
}

func wire(s *service.Service, cfg settings) (http.Handler, error) {
	store := postgres.NewStore(s.Pool)
	sg := &saga.Saga{Store: store, Currency: cfg.Currency, Timeout: cfg.SagaTimeout, Log: s.Log}
	sg.Admission = admission.New(admission.Config{
		Target: cfg.AdmissionTarget, MinLimit: cfg.AdmissionMinLimit, MaxLimit: cfg.AdmissionMaxLimit,
		InitialLimit: cfg.AdmissionInitialLimit, Disabled: cfg.AdmissionDisabled, Logger: s.Log,
	}, sg.InFlight)
	s.Go(sg.Admission.Run)
	sg.Gate = &saga.Gate{Catalog: store, Log: s.Log}
	s.Go(sg.Gate.Run)
	// Replies and catalog snapshots are consumed apart, each with its own
	// fetcher and workers: a burst of item.updated never delays a reply.
	// Each in a consumer group of its own: one group reader per group and
	// process.
	for group, topics := range map[string][]string{s.Name: sg.ReplyTopics(), s.Name + "-catalog": {topic.Items}} {
		err := s.Consume(service.Subscription{Topics: topics, Handler: sg.Handle, Lock: sg.Lock, Group: group,
			DeadLetterTopic: func(string) string { return topic.OrderDLT }})
		if err != nil {
			return nil, err
		}
	}
	waiter := &saga.Waiter{DatabaseURL: s.Config.DatabaseURL, Log: s.Log}
	sg.Waiter = waiter
	s.Go(waiter.Run)
	err := s.Every(cfg.SweepEvery, func(ctx context.Context) {
		if n, err := sg.Sweep(ctx); err != nil {
			s.Log.Warn("timeout sweep failed", "err", err)
		} else if n > 0 {
			s.Log.Info("orders timed out", "count", n)
		}
	})
	if err != nil {
		return nil, err
	}
	return (&api.API{Saga: sg, Store: store, Waiter: waiter, Log: s.Log}).Handler(), nil
}
