package trace

import (
	"context"
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
