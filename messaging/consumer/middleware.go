package consumer

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Middleware wraps a Handler with work that every message goes through
// (as watermill's router middleware does), so that handlers hold only
// what their messages mean. It runs inside the message's transaction:
// the ctx it passes on carries the transaction's hooks (postgres.AfterCommit),
// and an error it returns fails the message as a handler's would.
type Middleware func(Handler) Handler

// chain returns h inside, from the outermost: Metrics (so that it counts
// what a panic becomes), Recoverer (so that a panic anywhere inside is
// caught), Tracing, then the configured middleware in their order; the
// innermost layer names the message in a handler's error.
func (c *Consumer) chain(h Handler, configured []Middleware) Handler {
	h = describeErrors(h)
	for i := len(configured) - 1; i >= 0; i-- {
		h = configured[i](h)
	}
	return Metrics(Recoverer(c.log)(Tracing(h)))
}

// describeErrors names the message, by type and id, in an error of next,
// which the logs and the dead letter's dlt-error then carry.
func describeErrors(next Handler) Handler {
	return func(ctx context.Context, tx pgx.Tx, d Delivery) error {
		if err := next(ctx, tx, d); err != nil {
			return fmt.Errorf("handle %s %s: %w", d.Message.Type, d.Message.ID, err)
		}
		return nil
	}
}
