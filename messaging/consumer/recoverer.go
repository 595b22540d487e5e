package consumer

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/jackc/pgx/v5"
)

// Recoverer turns a panic of next into a poison error, logged with its
// stack on log: a handler's bug costs the message that found it (it goes
// to the dead-letter topic) and not the process, which would otherwise
// die and, restarted, meet the same message again. Every consumer runs
// its handler inside it.
func Recoverer(log *slog.Logger) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, tx pgx.Tx, d Delivery) (err error) {
			defer func() {
				if p := recover(); p != nil {
					logFor(log, d).Error("handler panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
					err = Poison(fmt.Errorf("handler panicked: %v", p))
				}
			}()
			return next(ctx, tx, d)
		}
	}
}
