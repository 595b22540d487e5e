package trace

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/purchase-saga/messaging/httpstatus"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	oteltrace "go.opentelemetry.io/otel/trace"
)

// HTTP serves h with a server span per request (otelhttp), a child of the
// request's traceparent header when it has one, named by the route: the
// ServeMux pattern that served it ("POST /orders"), the method alone when
// none did. Each request's context gets a saga box (WithSaga). When log
// is enabled at debug, each request is logged once answered with its
// method, route, status and duration; otherwise nothing is added.
//
// Built while no provider that records is installed (Recording), it
// starts the request's span itself, unrecorded, for its ids alone:
// otelhttp computes its attributes and metrics whether or not anything
// records them, several times what the span costs.
//
// Requests for the paths in untraced (health checks, metrics scrapes:
// frequent, and of no saga) make no recorded span.
func HTTP(h http.Handler, log *slog.Logger, untraced ...string) http.Handler {
	if log != nil && log.Enabled(context.Background(), slog.LevelDebug) {
		h = logRequests(h, log)
	}
	if !Recording() {
		return unrecorded(h)
	}
	traced := otelhttp.NewHandler(h, "http", otelhttp.WithTracerProvider(Provider()),
		otelhttp.WithPropagators(Propagator), otelhttp.WithSpanNameFormatter(routeName),
		otelhttp.WithFilter(func(r *http.Request) bool { return !slices.Contains(untraced, r.URL.Path) }))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		traced.ServeHTTP(w, r.WithContext(withSagaBox(r.Context())))
	})
}

// unrecorded serves h under a span that is not recorded: the request's
// trace continued, or a new one, so that its messages and log lines carry
// a trace id.
func unrecorded(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := Tracer().Start(ctx, "http", oteltrace.WithSpanKind(oteltrace.SpanKindServer))
		defer span.End()
		h.ServeHTTP(w, r.WithContext(withSagaBox(ctx)))
	})
}

// Middleware is HTTP without the request log.
func Middleware(h http.Handler) http.Handler { return HTTP(h, nil) }

// routeName names a request's span: by the pattern of the ServeMux that
// served it, which otelhttp reads once the request is served (the muxes
// inside set it on the request they are given, passed on unchanged).
func routeName(_ string, r *http.Request) string {
	return route(r)
}

// route returns r's ServeMux pattern, with its method, or the method alone
// before a mux routes it or when none matched.
func route(r *http.Request) string {
	switch p := r.Pattern; {
	case p == "":
		return r.Method
	case strings.Contains(p, " "):
		return p
	default:
		return r.Method + " " + p
	}
}

// logRequests logs each request at debug once h has answered it.
func logRequests(h http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := httpstatus.Record(w)
		h.ServeHTTP(sw, r)
		log.DebugContext(r.Context(), "http request", "method", r.Method, "route", route(r),
			"status", sw.Code(), "duration", time.Since(start).String())
	})
}
