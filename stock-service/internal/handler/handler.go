// Package handler applies the commands stock-service consumes (stock.reserve
// on topic stock, stock.release on stock.compensation) inside the
// consumer's transaction, and writes their replies to the outbox in that
// same transaction, so that an effect and its answer commit together.
package handler

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/consumer"

	"github.com/purchase-saga/stock-service/internal/postgres"
	"github.com/purchase-saga/contract/stockmsg"
)

// Handler applies stock commands; Handle is its consumer.Handler.
type Handler struct {
	currency string
	service  string
}

// New returns a handler for a deployment in currency; service names this
// service in the dead-letter headers of its rejections.
func New(currency, service string) *Handler {
	return &Handler{currency: currency, service: service}
}

var _ consumer.Handler = (*Handler)(nil).Handle

// Handle applies d in tx. A message it can never apply (unknown type,
// undecodable or invalid data) returns an error wrapping consumer.ErrPoison;
// any other error is worth retrying.
func (h *Handler) Handle(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
	s := postgres.New(tx)
	switch d.Message.Type {
	case stockmsg.TypeReserve:
		return h.reserve(ctx, tx, s, d)
	case stockmsg.TypeRelease:
		return h.release(ctx, tx, s, d)
	}
	return consumer.Poison(fmt.Errorf("unknown message type %q", d.Message.Type))
}
