// Command payment-service owns customer accounts: it charges and refunds
// orders' amounts for their sagas (SPEC 5, 6).
package main

import (
	"context"
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
	Migrate:     migrations.For(migrations.Payment),
	Wire:        wire,
	OpenAPI:     api.OpenAPI,
}

// settings are the service's own, beside service.Config: the shop's
// currency (checked by contract.Shop's Validate) and the admin token.
type settings struct {
	contract.Shop
	service.Admin
}

func main() {
	service.Main(spec)
}

// wire runs payment's participant of the saga and serves its API.
func wire(_ context.Context, s *service.Service, cfg settings) (http.Handler, error) {
	if err := handler.New(s.Name).Consume(s); err != nil {
		return nil, err
	}
	return api.New(s.Pool, cfg.Currency, cfg.AdminToken, s.Log).Handler(), nil
}
