// Package handler is payment-service's part of the saga: its effect, the
// charge of an order's amount to its customer (payment.charge on topic
// payment) and its refund (payment.refund on payment.compensation),
// applied by the participant flow (messaging/participant) in the
// consumer's transaction together with its reply.
package handler

import (
	"github.com/purchase-saga/contract"
	"github.com/purchase-saga/messaging/participant"

	"github.com/purchase-saga/payment-service/internal/payment"
)

// Participant applies payment commands; Handle and Lock are its
// consumer's.
type Participant = participant.Participant[payment.Charge, payment.Charge]

// New returns the participant; service names this service in the
// dead-letter headers of its rejections.
func New(service string) *Participant {
	return participant.New(participant.Spec[payment.Charge, payment.Charge]{
		Step:      participant.Step(contract.Payment),
		Effect:    effect{},
		Service:   service,
		Cancelled: "the order was refunded before it was charged",
	})
}

// effect is payment's participant.Effect: its action is a charge, and so
// is what it records of one.
type effect struct{}

var _ participant.Effect[payment.Charge, payment.Charge] = effect{}
