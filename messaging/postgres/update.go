package postgres

import "context"

// Aggregate is how Update reads and writes one kind of aggregate T (an
// item, an account) in a unit of work S of its service. The store comes
// first so that a store's methods fit as method expressions
// ((*Store).lockItem).
type Aggregate[S, T any] struct {
	// Lock reads aggregate id and locks its row (SELECT … FOR UPDATE)
	// until the transaction ends, so that whoever changes it next waits
	// for this transaction and reads what it left; it returns the
	// domain's not-found error when there is no such aggregate.
	Lock func(s S, ctx context.Context, id string) (T, error)
	// Save writes now, what the domain made of was, with whatever must
	// change with it in the same transaction (its outbox message, the
	// rows of a ledger), and returns it as stored.
	Save func(s S, ctx context.Context, was, now T) (T, error)
}

// Update changes aggregate id alone, in a unit of work of db of its own:
// it locks and reads the aggregate (agg.Lock), hands a copy to fn, which
// checks the domain's rules and changes it in memory, and when fn returns
// nil saves it (agg.Save) and commits, returning it as stored. Because
// the row stays locked from the read to the commit, concurrent updates of
// one aggregate run one after the other and none is lost, while fn, not
// SQL, decides what a change may do. fn's error, Lock's not-found and any
// other failure come back as they are, nothing stored: the caller's edge
// maps the domain's errors, so Update adds no words of its own.
//
// The transaction gets hooks of its own (WithTxHooks): writes that the
// store buffers until the commit (the outbox's) are flushed before it,
// and those of an enclosing unit of work (a consumer's batch) are not
// this transaction's.
func Update[S, T any](ctx context.Context, db *DB[S], agg Aggregate[S, T], id string, fn func(*T) error) (T, error) {
	ctx, hooks := WithTxHooks(ctx)
	var saved T
	err := db.InTx(ctx, func(s S) error {
		was, err := agg.Lock(s, ctx, id)
		if err != nil {
			return err
		}
		now := was
		if err := fn(&now); err != nil {
			return err
		}
		if saved, err = agg.Save(s, ctx, was, now); err != nil {
			return err
		}
		return hooks.BeforeCommit(ctx)
	})
	if err != nil {
		var zero T
		return zero, err
	}
	hooks.Committed()
	return saved, nil
}
