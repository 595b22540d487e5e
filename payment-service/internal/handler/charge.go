package handler

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/consumer"

	"github.com/purchase-saga/payment-service/internal/payment"
	"github.com/purchase-saga/payment-service/internal/postgres"
	"github.com/purchase-saga/contract/paymentmsg"
)

// expired reports whether a command's deadline (zero: none) has passed: a
// backlog must not turn into charges for sagas already given up, which
// would then have to be refunded.
func expired(deadline time.Time) bool {
	return !deadline.IsZero() && time.Now().After(deadline)
}

// charge takes an order's amount from its customer's account. A repeated
// charge is answered as the first was; one after the refund is refused as
// cancelled; a refusal records nothing, so a replay may succeed later.
func (h *Handler) charge(ctx context.Context, tx pgx.Tx, s *postgres.Store, d consumer.Delivery) error {
	var cmd paymentmsg.Charge
	if err := consumer.DecodeData(d, &cmd, func() string { return cmd.OrderID }); err != nil {
		return err
	}
	c := payment.Charge{OrderID: cmd.OrderID, AccountID: cmd.CustomerID, AmountCents: cmd.AmountCents, Currency: cmd.Currency}
	if err := c.Validate(); err != nil {
		return consumer.Poison(err)
	}
	if err := s.LockOrder(ctx, c.OrderID); err != nil {
		return err
	}
	prev, ok, err := s.Charge(ctx, c.OrderID)
	switch {
	case err != nil:
		return err
	case ok && prev.Status == payment.Charged:
		return charged(ctx, tx, prev)
	case ok:
		return h.reject(ctx, tx, d, c.OrderID, payment.Refusal{
			Reason: payment.ReasonCancelled, Detail: "the order was refunded before it was charged",
		})
	case expired(cmd.Deadline):
		return h.reject(ctx, tx, d, c.OrderID, payment.Refusal{
			Reason: payment.ReasonExpired, Detail: "the saga's deadline passed at " + cmd.Deadline.UTC().Format(time.RFC3339),
		})
	}
	debited, err := s.Debit(ctx, c)
	switch {
	case err != nil:
		return err
	case debited:
		return charged(ctx, tx, c)
	}
	acct, found, err := s.Account(ctx, c.AccountID)
	if err != nil {
		return err
	}
	return h.reject(ctx, tx, d, c.OrderID, payment.Explain(c, acct, found))
}

func charged(ctx context.Context, tx pgx.Tx, c payment.Charge) error {
	return succeed(ctx, tx, c.OrderID, paymentmsg.TypeCharged, paymentmsg.Charged{OrderID: c.OrderID, AmountCents: c.AmountCents})
}
