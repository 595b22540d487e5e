// Package handler applies the commands payment-service consumes
// (payment.charge on topic payment, payment.refund on payment.compensation)
// inside the consumer's transaction, and writes their replies to the
// outbox in that same transaction, so that an effect and its answer commit
// together.
package handler

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/consumer"

	"github.com/purchase-saga/payment-service/internal/postgres"
	"github.com/purchase-saga/contract/paymentmsg"
)

// Handler applies payment commands; Handle is its consumer.Handler.
type Handler struct {
	service string
}

// New returns a handler; service names this service in the dead-letter
// headers of its rejections.
func New(service string) *Handler {
	return &Handler{service: service}
}

var _ consumer.Handler = (*Handler)(nil).Handle

// Handle applies d in tx. A message it can never apply (unknown type,
// undecodable or invalid data) returns an error wrapping consumer.ErrPoison;
// any other error is worth retrying.
func (h *Handler) Handle(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
	s := postgres.New(tx)
	switch d.Message.Type {
	case paymentmsg.TypeCharge:
		return h.charge(ctx, tx, s, d)
	case paymentmsg.TypeRefund:
		return h.refund(ctx, tx, s, d)
	}
	return consumer.Poison(fmt.Errorf("unknown message type %q", d.Message.Type))
}
