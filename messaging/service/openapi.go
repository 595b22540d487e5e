package service

import (
	"maps"
	"net/http"
	"slices"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/purchase-saga/messaging/problem"
)

// OpenAPIPath is where every service serves its OpenAPI document
// (Spec.OpenAPI).
const OpenAPIPath = "/openapi.json"

// Routes lists the patterns the kit serves on every service's HTTP address
// beside the service's own API: health, readiness, metrics and the OpenAPI
// document. A service's OpenAPI document documents them as well as its
// API's routes; its conformance test checks both lists against it.
func Routes() []string {
	return slices.Sorted(maps.Keys((&Service{}).kitRoutes()))
}

// kitRoutes is the route table routes registers and Routes lists.
func (s *Service) kitRoutes() map[string]http.Handler {
	return map[string]http.Handler{
		"GET /healthz": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"status":"ok"}`))
		}),
		"GET /readyz":        http.HandlerFunc(s.ready),
		"GET /metrics":       promhttp.Handler(),
		"GET " + OpenAPIPath: http.HandlerFunc(s.openAPI),
	}
}

// openAPI serves the service's OpenAPI document as it was given, or a 404
// problem when the service has none.
func (s *Service) openAPI(w http.ResponseWriter, _ *http.Request) {
	if len(s.OpenAPI) == 0 {
		problem.Error(w, http.StatusNotFound, "this service publishes no OpenAPI document")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.OpenAPI)
}
