package handler

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/outbox"
	"github.com/purchase-saga/contract/topic"

	"github.com/purchase-saga/payment-service/internal/payment"
	"github.com/purchase-saga/contract/paymentmsg"
)

// succeed writes a success reply of type typ to payment.success.
func succeed(ctx context.Context, tx pgx.Tx, orderID, typ string, data any) error {
	return outbox.Send(ctx, tx, topic.PaymentSuccess, typ, orderID, data)
}

// maxDetail bounds a rejection's detail, in bytes.
const maxDetail = 200

// reject writes a payment.rejected reply for d to payment.dlt, where the
// orchestrator reads a step's failures, with dlt-reason rejected.
func (h *Handler) reject(ctx context.Context, tx pgx.Tx, d consumer.Delivery, orderID string, r payment.Refusal) error {
	m, err := envelope.New(paymentmsg.TypeRejected, orderID, paymentmsg.Rejected{
		OrderID: orderID, Reason: string(r.Reason), Detail: envelope.Truncate(r.Detail, maxDetail),
	})
	if err != nil {
		return err
	}
	return outbox.Write(ctx, tx, consumer.Rejection(d, topic.PaymentDLT, h.service, string(r.Reason), m))
}
