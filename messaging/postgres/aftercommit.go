package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

type txHooksKey struct{}

// TxHooks holds what the work of one transaction asked to run just before
// its commit and once it committed. The transaction's owner (the consumer
// for a batch, a service for its own transactions) makes them with
// WithTxHooks, calls BeforeCommit before committing and Committed once the
// commit succeeded, and never Committed when it rolled back.
type TxHooks struct {
	after  []func()
	before []func(context.Context) error
	// last runs after before: the flush of writes the functions of
	// before may add to (the outbox rows of a batch).
	last []func(context.Context) error
	keys map[string]bool
	// locked holds the keys LockKeys locked in the transaction, which
	// LockKey then need not lock again.
	locked map[string]bool
	values map[any]any
	// prelude queues what the transaction's owner wants sent before the
	// work's own first statements, in their round trip; nil once taken.
	prelude func(*pgx.Batch) func(pgx.BatchResults) error
}

// SetPrelude registers queue to add statements at the head of the first
// batch of the transaction whose context ctx is that takes them
// (TakePrelude), and to return what reads their results there; the owner
// sends them alone if nobody did (SendPrelude). A consumer puts its inbox
// claim there, so that it goes with the batch's locks.
func SetPrelude(ctx context.Context, queue func(*pgx.Batch) func(pgx.BatchResults) error) {
	if h, ok := ctx.Value(txHooksKey{}).(*TxHooks); ok {
		h.prelude = queue
	}
}

// TakePrelude queues the transaction's prelude, if it has one not yet
// taken, at the head of batch (call it before queueing anything else) and
// returns what reads its results, first of all of the batch's: the
// prelude's error, if any. Without a prelude it queues and reads nothing.
func TakePrelude(ctx context.Context, batch *pgx.Batch) func(pgx.BatchResults) error {
	h, ok := ctx.Value(txHooksKey{}).(*TxHooks)
	if !ok || h.prelude == nil {
		return func(pgx.BatchResults) error { return nil }
	}
	queue := h.prelude
	h.prelude = nil
	return queue(batch)
}

// SendPrelude sends the transaction's prelude in a round trip of its own
// if nobody took it.
func (h *TxHooks) SendPrelude(ctx context.Context, tx pgx.Tx) error {
	if h.prelude == nil {
		return nil
	}
	batch := &pgx.Batch{}
	read := h.prelude(batch)
	h.prelude = nil
	br := tx.SendBatch(ctx, batch)
	err := read(br)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// TxValue returns what SetTxValue stored under key in the transaction
// whose context ctx is, and whether there is any.
func TxValue(ctx context.Context, key any) (any, bool) {
	h, ok := ctx.Value(txHooksKey{}).(*TxHooks)
	if !ok {
		return nil, false
	}
	v, ok := h.values[key]
	return v, ok
}

// SetTxValue stores v under key for the rest of the transaction whose
// context ctx is (work done early in a batch, such as rows read while
// locking them, for its messages to use); outside such a context it does
// nothing and reports false.
func SetTxValue(ctx context.Context, key, v any) bool {
	h, ok := ctx.Value(txHooksKey{}).(*TxHooks)
	if !ok {
		return false
	}
	if h.values == nil {
		h.values = map[any]any{}
	}
	h.values[key] = v
	return true
}

// WithTxHooks returns a context in which AfterCommit and BeforeCommit
// register with the returned hooks.
func WithTxHooks(ctx context.Context) (context.Context, *TxHooks) {
	h := &TxHooks{keys: map[string]bool{}, locked: map[string]bool{}}
	return context.WithValue(ctx, txHooksKey{}, h), h
}

// BeforeCommit runs the functions registered with BeforeCommit, in the
// order of registration (those they register too), then those registered
// with BeforeCommitLast, and stops at the first error.
func (h *TxHooks) BeforeCommit(ctx context.Context) error {
	for i := 0; i < len(h.before); i++ {
		if err := h.before[i](ctx); err != nil {
			return err
		}
	}
	for i := 0; i < len(h.last); i++ {
		if err := h.last[i](ctx); err != nil {
			return err
		}
	}
	h.before, h.last, h.keys = nil, nil, map[string]bool{}
	return nil
}

// Committed runs the functions registered with AfterCommit, in order.
func (h *TxHooks) Committed() {
	for _, fn := range h.after {
		fn()
	}
	h.after = nil
}

// AfterCommit registers fn to run when the transaction whose context ctx
// is commits, so that what it counts or announces only happens if the
// transaction did. Outside such a context (a test calling a handler
// directly) fn runs at once.
func AfterCommit(ctx context.Context, fn func()) {
	if h, ok := ctx.Value(txHooksKey{}).(*TxHooks); ok {
		h.after = append(h.after, fn)
		return
	}
	fn()
}

// BeforeCommit registers fn to run once, just before the transaction whose
// context ctx is commits, however often it is registered under key: work
// that many messages of a batch ask for (one snapshot of a row that a
// hundred commands changed) is then done once, with the transaction's
// final state. It reports false, registering nothing, outside such a
// context: the caller does the work at once.
func BeforeCommit(ctx context.Context, key string, fn func(context.Context) error) bool {
	h, ok := ctx.Value(txHooksKey{}).(*TxHooks)
	if !ok {
		return false
	}
	if !h.keys[key] {
		h.keys[key] = true
		h.before = append(h.before, fn)
	}
	return true
}

// pendingKey keys a write-behind buffer among a transaction's values.
type pendingKey struct{ name string }

// Pending returns the write-behind buffer named name of the transaction
// whose context ctx is: work that the messages of a batch add to, written
// in a few statements just before the commit rather than message by
// message. The first call makes it (new(T)) and registers flush to write
// it before the commit, with the BeforeCommit functions; a call after the
// flush starts a new buffer. Outside such a context it returns nil: the
// caller writes at once.
func Pending[T any](ctx context.Context, name string, flush func(context.Context, *T) error) *T {
	return pending(ctx, name, false, flush)
}

// PendingLast is Pending with flush run after every BeforeCommit and
// Pending flush, which may still add to it (the outbox rows of a batch).
func PendingLast[T any](ctx context.Context, name string, flush func(context.Context, *T) error) *T {
	return pending(ctx, name, true, flush)
}

// PendingBuffer returns the write-behind buffer named name of the
// transaction whose context ctx is, or nil when there is none (yet): a
// flush that takes its contents into a round trip of its own.
func PendingBuffer[T any](ctx context.Context, name string) *T {
	h, ok := ctx.Value(txHooksKey{}).(*TxHooks)
	if !ok {
		return nil
	}
	v, _ := h.values[pendingKey{name}].(*T)
	return v
}

func pending[T any](ctx context.Context, name string, last bool, flush func(context.Context, *T) error) *T {
	h, ok := ctx.Value(txHooksKey{}).(*TxHooks)
	if !ok {
		return nil
	}
	key := pendingKey{name}
	if v, ok := h.values[key].(*T); ok {
		return v
	}
	v := new(T)
	if h.values == nil {
		h.values = map[any]any{}
	}
	h.values[key] = v
	fn := func(ctx context.Context) error {
		delete(h.values, key)
		return flush(ctx, v)
	}
	if last {
		h.last = append(h.last, fn)
	} else {
		h.before = append(h.before, fn)
	}
	return v
}
