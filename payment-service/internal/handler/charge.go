package handler

import (
	"context"

	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/participant"

	"github.com/purchase-saga/payment-service/internal/payment"
	"github.com/purchase-saga/payment-service/internal/postgres"
)

// Command reads a payment.charge; a batch locks its customer's account.
func (effect) Command(d consumer.Delivery) (participant.Command[payment.Charge], error) {
	var cmd paymentmsg.Charge
	if err := consumer.DecodeData(d, &cmd, func() string { return cmd.OrderID }); err != nil {
		return participant.Command[payment.Charge]{}, err
	}
	c := payment.Charge{OrderID: cmd.OrderID, AccountID: cmd.CustomerID, AmountCents: cmd.AmountCents, Currency: cmd.Currency}
	if err := c.Validate(); err != nil {
		return participant.Command[payment.Charge]{}, consumer.Poison(err)
	}
	return participant.Command[payment.Charge]{
		Saga: c.OrderID, Deadline: cmd.Deadline, Locks: []string{c.AccountID}, Value: c,
	}, nil
}

// Apply takes an order's amount from its customer's account, or says why
// it cannot.
func (effect) Apply(ctx context.Context, s *postgres.Store, cmd participant.Command[payment.Charge]) (payment.Charge, *participant.Refusal, error) {
	c := cmd.Value
	debited, err := s.Debit(ctx, c)
	switch {
	case err != nil:
		return payment.Charge{}, nil, err
	case debited:
		return c, nil, nil
	}
	acct, found, err := s.Account(ctx, c.AccountID)
	if err != nil {
		return payment.Charge{}, nil, err
	}
	reason, detail := payment.Explain(c, acct, found)
	return payment.Charge{}, &participant.Refusal{Reason: reason, Detail: detail}, nil
}

// Done answers a charge of c's amount.
func (effect) Done(orderID string, c payment.Charge) any {
	return paymentmsg.Charged{OrderID: orderID, AmountCents: c.AmountCents}
}

// maxDetail bounds a rejection's detail, in bytes.
const maxDetail = 200

// Rejected answers a refused charge.
func (effect) Rejected(orderID string, r participant.Refusal) any {
	return paymentmsg.Rejected{OrderID: orderID, Reason: r.Reason, Detail: envelope.Truncate(r.Detail, maxDetail)}
}
