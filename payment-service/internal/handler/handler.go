// Package handler is payment-service's part of the saga: its effect, the
// charge of an order's amount to its customer (payment.charge on topic
// payment) and its refund (payment.refund on payment.compensation),
// applied by the participant flow (messaging/participant) in the
// consumer's transaction, through the store's unit of work, together with
// its reply.
package handler

import (
	"github.com/purchase-saga/contract"
	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/messaging/participant"

	"github.com/purchase-saga/payment-service/internal/payment"
	"github.com/purchase-saga/payment-service/internal/postgres"
)

// Participant applies payment commands; Handle and Lock are its
// consumer's.
type Participant = participant.Participant[*postgres.Store, payment.Charge, payment.Charge]

// New returns the participant; service names this service in the
// dead-letter headers of its rejections.
func New(service string) *Participant {
	return participant.New(participant.Spec[*postgres.Store, payment.Charge, payment.Charge]{
		Step:         participant.Step(contract.Payment),
		Effect:       effect{},
		Records:      charges,
		Unit:         postgres.New,
		Compensation: participant.DecodeCompensation(func(m *paymentmsg.Refund) string { return m.OrderID }),
		Service:      service,
		Cancelled:    "the order was refunded before it was charged",
	})
}

// effect is payment's participant.Effect: its action is a charge, and so
// is what it records of one.
type effect struct{}

var _ participant.Effect[*postgres.Store, payment.Charge, payment.Charge] = effect{}
