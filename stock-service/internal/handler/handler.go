// Package handler is stock-service's part of the saga: its effect, the
// reservation of an order's lines (stock.reserve on topic stock) and their
// release (stock.release on stock.compensation), applied by the
// participant flow (messaging/participant) in the consumer's transaction,
// through the store's unit of work, together with its reply.
package handler

import (
	"github.com/purchase-saga/contract"
	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/messaging/participant"

	"github.com/purchase-saga/stock-service/internal/postgres"
	"github.com/purchase-saga/stock-service/internal/stock"
)

// Participant applies stock commands; Handle and Lock are its consumer's.
type Participant = participant.Participant[*postgres.Store, []stock.Line, stock.Reservation]

// New returns the participant of a deployment in currency; service names
// this service in the dead-letter headers of its rejections.
func New(currency, service string) *Participant {
	return participant.New(participant.Spec[*postgres.Store, []stock.Line, stock.Reservation]{
		Step:         participant.Step(contract.Stock),
		Effect:       effect{currency: currency},
		Records:      reservations,
		Unit:         postgres.New,
		Compensation: participant.DecodeCompensation(func(m *stockmsg.Release) string { return m.OrderID }),
		Service:      service,
		Cancelled:    "the order's stock was released before it was reserved",
	})
}

// effect is stock's participant.Effect; its prior effect is the order's
// reservation.
type effect struct {
	currency string
}

var _ participant.Effect[*postgres.Store, []stock.Line, stock.Reservation] = effect{}
