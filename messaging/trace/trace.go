// Package trace carries a W3C traceparent through a context so that the
// messages caused by a request or by a consumed message continue its trace.
package trace

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
)

type ctxKey struct{}

// Parent is a parsed traceparent: version 00, a 16-byte trace id and an
// 8-byte parent span id, both hex encoded.
type Parent struct {
	TraceID string
	SpanID  string
	Flags   string
}

// String formats p as a traceparent header value.
func (p Parent) String() string {
	return "00-" + p.TraceID + "-" + p.SpanID + "-" + p.Flags
}

// Parse reads a traceparent header value; ok is false when it is malformed.
func Parse(s string) (p Parent, ok bool) {
	parts := strings.Split(strings.TrimSpace(s), "-")
	if len(parts) != 4 || len(parts[0]) != 2 || len(parts[1]) != 32 || len(parts[2]) != 16 || len(parts[3]) != 2 {
		return Parent{}, false
	}
	for _, part := range parts {
		if _, err := hex.DecodeString(part); err != nil {
			return Parent{}, false
		}
	}
	if parts[1] == strings.Repeat("0", 32) || parts[2] == strings.Repeat("0", 16) {
		return Parent{}, false
	}
	return Parent{TraceID: parts[1], SpanID: parts[2], Flags: parts[3]}, true
}

// New starts a fresh, sampled trace.
func New() Parent {
	return Parent{TraceID: randomHex(16), SpanID: randomHex(8), Flags: "01"}
}

// Child returns a new span in the same trace.
func (p Parent) Child() Parent {
	return Parent{TraceID: p.TraceID, SpanID: randomHex(8), Flags: p.Flags}
}

// WithParent returns a context carrying p.
func WithParent(ctx context.Context, p Parent) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the trace carried by ctx, if any.
func FromContext(ctx context.Context) (Parent, bool) {
	p, ok := ctx.Value(ctxKey{}).(Parent)
	return p, ok
}

// Continue returns a context carrying a child of the traceparent header
// value s, or of a new trace when s is absent or malformed.
func Continue(ctx context.Context, s string) context.Context {
	if p, ok := Parse(s); ok {
		return WithParent(ctx, p.Child())
	}
	return WithParent(ctx, New())
}

// Header returns the traceparent for a message emitted under ctx: a child
// of the context's trace, or a new trace when the context has none.
func Header(ctx context.Context) string {
	if p, ok := FromContext(ctx); ok {
		return p.Child().String()
	}
	return New().String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// Middleware continues the trace of each request's traceparent header (or
// starts one), so that the messages a request causes carry its trace
// through the outbox.
func Middleware(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(Continue(r.Context(), r.Header.Get("traceparent"))))
	})
}
