// Command payment-service owns customer accounts: it charges and refunds
// orders' amounts for their sagas (SPEC 5, 6).
package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"

	"github.com/purchase-saga/contract"
	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/service"
	"github.com/purchase-saga/migrations"

	"github.com/purchase-saga/payment-service/internal/api"
	"github.com/purchase-saga/payment-service/internal/handler"
)

const name = "payment-service"

// spec is the service, for main and the end-to-end test alike.
var spec = service.Spec[settings]{
	Name:        name,
	DefaultAddr: "127.0.0.1:8082",
	Topics:      service.Topics{Names: topic.All, Compacted: topic.Compacted},
	Migrate:     migrate,
	Wire:        wire,
}

// settings are the service's own, beside service.Config.
type settings struct {
	AdminToken string `env:"ADMIN_TOKEN" secret:"true"`
	Currency   string `env:"CURRENCY" default:"EUR"`
}

// Validate reports a currency that is not an ISO code.
func (s *settings) Validate() error { return contract.CheckCurrency(s.Currency) }

func main() {
	service.Main(spec)
}

// migrate applies payment's schema, for main and the end-to-end test
// alike, so that the test runs on the schema production runs on.
func migrate(ctx context.Context, db *sql.DB) error {
	return migrations.Up(ctx, db, migrations.Payment)
}

// wire consumes the payment commands and their compensations, sending
// every failure to payment.dlt, where the orchestrator reads this step's
// outcome.
func wire(_ context.Context, s *service.Service, cfg settings) (http.Handler, error) {
	h := handler.New(s.Name)
	// Commands and compensations are consumed apart, each with its own
	// fetcher and workers, so that refunds never queue behind a backlog
	// of charges.
	for _, t := range []string{topic.Payment, topic.PaymentCompensation} {
		// Each in a consumer group of its own: one group reader per
		// group and process.
		group := s.Name
		if t == topic.PaymentCompensation {
			group += "-compensation"
		}
		err := s.Consume(service.Subscription{
			Topics: []string{t}, Handler: h.Handle, Lock: h.Lock, Group: group,
			DeadLetterTopic: func(string) string { return topic.PaymentDLT },
		})
		if err != nil {
			return nil, fmt.Errorf("consume %s: %w", t, err)
		}
	}
	return api.New(s.Pool, cfg.Currency, cfg.AdminToken, s.Log).Handler(), nil
}
