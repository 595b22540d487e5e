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
// It runs for every consumed message, so it reads s in place.
func Parse(s string) (p Parent, ok bool) {
	s = strings.TrimSpace(s)
	// version-traceid-spanid-flags: 2, 32, 16 and 2 hex digits.
	if len(s) != 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return Parent{}, false
	}
	version, traceID, spanID, flags := s[:2], s[3:35], s[36:52], s[53:]
	if !isHex(version) || !isHex(traceID) || !isHex(spanID) || !isHex(flags) || allZeros(traceID) || allZeros(spanID) {
		return Parent{}, false
	}
	return Parent{TraceID: traceID, SpanID: spanID, Flags: flags}, true
}

// isHex reports whether s is hex digits only, of either case.
func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}

// allZeros reports whether s is zeros only: an invalid trace or span id.
func allZeros(s string) bool {
	return strings.Trim(s, "0") == ""
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

// randomHex returns n random bytes (n <= 16), hex encoded.
func randomHex(n int) string {
	var b [16]byte
	_, _ = rand.Read(b[:n]) // crypto/rand.Read never fails on supported platforms
	var out [32]byte
	return string(hex.AppendEncode(out[:0], b[:n]))
}

// Middleware continues the trace of each request's traceparent header (or
// starts one), so that the messages a request causes carry its trace
// through the outbox.
func Middleware(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(Continue(r.Context(), r.Header.Get("traceparent"))))
	})
}
