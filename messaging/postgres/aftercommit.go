package postgres

import "context"

type afterCommitKey struct{}

// afterCommit holds the functions to run once a transaction commits.
type afterCommit struct{ fns []func() }

// WithAfterCommit returns a context for the work of one transaction, in
// which AfterCommit registers functions, and run, which calls them in
// order; the transaction's owner calls run once the commit succeeded, and
// never when it rolled back, so that what they count or announce only
// happened if the transaction did.
func WithAfterCommit(ctx context.Context) (context.Context, func()) {
	h := &afterCommit{}
	return context.WithValue(ctx, afterCommitKey{}, h), func() {
		for _, fn := range h.fns {
			fn()
		}
		h.fns = nil
	}
}

// AfterCommit registers fn to run when the transaction whose context ctx
// is commits. Outside such a context (a test calling a handler directly)
// fn runs at once.
func AfterCommit(ctx context.Context, fn func()) {
	if h, ok := ctx.Value(afterCommitKey{}).(*afterCommit); ok {
		h.fns = append(h.fns, fn)
		return
	}
	fn()
}
