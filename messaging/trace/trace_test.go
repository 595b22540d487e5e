package trace

import (
	"context"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseAndContinue(t *testing.T) {
	const in = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	p, ok := Parse(in)
	if !ok || p.String() != in {
		t.Fatalf("Parse(%q) = %v, %v", in, p, ok)
	}
	for _, bad := range []string{"", "00-xyz-00f067aa0ba902b7-01", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-01"} {
		if _, ok := Parse(bad); ok {
			t.Errorf("Parse(%q) accepted a malformed traceparent", bad)
		}
	}
	ctx := Continue(context.Background(), in)
	h := Header(ctx)
	if !strings.HasPrefix(h, "00-4bf92f3577b34da6a3ce929d0e0e4736-") || h == in {
		t.Errorf("Header after Continue = %q, want a child span of the incoming trace", h)
	}
	if fresh := Header(context.Background()); strings.Contains(fresh, "4bf92f3577b34da6a3ce929d0e0e4736") {
		t.Errorf("a context without a trace reused one: %q", fresh)
	} else if _, ok := Parse(fresh); !ok {
		t.Errorf("new trace %q does not parse", fresh)
	}
}

func TestMiddlewareCarriesTheRequestTrace(t *testing.T) {
	const in = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	var got string
	h := Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = Header(r.Context()) }))
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("traceparent", in)
	h.ServeHTTP(httptest.NewRecorder(), r)
	if !strings.HasPrefix(got, "00-4bf92f3577b34da6a3ce929d0e0e4736-") {
		t.Errorf("message traceparent %q does not continue the request's trace", got)
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil))
	if _, ok := Parse(got); !ok || strings.Contains(got, "4bf92f3577b34da6a3ce929d0e0e4736") {
		t.Errorf("a request without a trace gave %q, want a new one", got)
	}
}

// parseBySplitting is Parse as it was first written, the reference the
// in-place one must agree with.
func parseBySplitting(s string) (Parent, bool) {
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

func FuzzParseAgreesWithSplitting(f *testing.F) {
	for _, s := range []string{
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		" 00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01\t",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
		"00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
		"000-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
		"", "-", "00-xyz-00f067aa0ba902b7-01",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, gotOK := Parse(s)
		want, wantOK := parseBySplitting(s)
		if got != want || gotOK != wantOK {
			t.Errorf("Parse(%q) = %v, %v; want %v, %v", s, got, gotOK, want, wantOK)
		}
	})
}

func TestRandomHexIsRandomHex(t *testing.T) {
	a, b := randomHex(8), randomHex(8)
	if len(a) != 16 || !isHex(a) || a == b {
		t.Errorf("randomHex(8) = %q then %q, want two different 16-digit hex strings", a, b)
	}
	if got := randomHex(16); len(got) != 32 || !isHex(got) {
		t.Errorf("randomHex(16) = %q", got)
	}
}

func BenchmarkContinue(b *testing.B) {
	const in = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	b.ReportAllocs()
	for b.Loop() {
		Continue(context.Background(), in)
	}
}
