package service

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/purchase-saga/messaging/httpstatus"
)

var (
	httpRequests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "saga_http_requests_total",
		Help: `HTTP requests answered, by route (the ServeMux pattern such as "GET /orders/{id}", "unmatched" when none matched) and status class (2xx, 3xx, 4xx, 5xx).`,
	}, []string{"route", "code"})
	httpSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name: "saga_http_request_duration_seconds",
		Help: "Time to answer an HTTP request, long polls (?wait=) included, by route and status class as saga_http_requests_total.",
		// Up to the 60 s cap of a long poll.
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"route", "code"})
)

// unmatchedRoute labels the requests no pattern matched (404, 405, and
// URLs refused before routing): their paths are the clients' choice, so
// they never become a label of their own.
const unmatchedRoute = "unmatched"

// statusClasses are the values of the code label.
var statusClasses = []string{"2xx", "3xx", "4xx", "5xx"}

// registerRoutes creates the HTTP series of routes, and of unmatched
// requests, at zero for every status class.
func registerRoutes(routes ...string) {
	for _, route := range append(routes, unmatchedRoute) {
		for _, code := range statusClasses {
			httpRequests.WithLabelValues(route, code)
			httpSeconds.WithLabelValues(route, code)
		}
	}
}

// instrumentHTTP counts and times every request next answers by the
// pattern that routed it. next must be (or hand the very same request
// to) the ServeMux: the mux records the pattern in the request it is
// given, which a copy made on the way (r.WithContext) would hide.
func instrumentHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := httpstatus.Record(w)
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = unmatchedRoute
		}
		code := statusClass(sw.Code())
		httpRequests.WithLabelValues(route, code).Inc()
		httpSeconds.WithLabelValues(route, code).Observe(time.Since(start).Seconds())
	})
}

// statusClass is the code label of an answered status.
func statusClass(code int) string {
	if code < 200 || code > 599 {
		return "5xx"
	}
	return strconv.Itoa(code/100) + "xx"
}

// Mux is an http.ServeMux that remembers the patterns it was given, so
// that the service's HTTP metrics show each of its routes at zero before
// its first request. A service's API handler built on it is told apart
// by Run; any other handler still gets its requests labelled by pattern.
type Mux struct {
	http.ServeMux
	patterns []string
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{} }

// MuxOf returns a Mux serving a route table (pattern: handler), as a
// service's API declares it, so that the table the API's OpenAPI test
// checks is the one served, and its routes are counted from the start.
func MuxOf(routes map[string]http.Handler) *Mux {
	m := NewMux()
	for _, pattern := range slices.Sorted(maps.Keys(routes)) {
		m.Handle(pattern, routes[pattern])
	}
	return m
}

// Handle registers handler for pattern, as http.ServeMux.Handle does.
func (m *Mux) Handle(pattern string, handler http.Handler) {
	m.ServeMux.Handle(pattern, handler)
	m.patterns = append(m.patterns, pattern)
}

// HandleFunc registers handler for pattern, as http.ServeMux.HandleFunc does.
func (m *Mux) HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(handler))
}

// Patterns returns the patterns registered so far.
func (m *Mux) Patterns() []string { return append([]string(nil), m.patterns...) }
