package openapitest

import (
	"bytes"
	"maps"
	"net/http"
	"slices"
	"testing"

	"github.com/purchase-saga/messaging/service"
)

// NotReady is why a service's conformance test leaves "GET /readyz 503"
// unexercised (CheckExercised): a running service is ready.
const NotReady = "needs the database or the broker down; messaging/service's readiness tests drive it"

// CheckServiceRoutes is CheckRoutes of a service: the kit's routes
// (messaging/service.Routes) and its API's route table.
func (d *Document) CheckServiceRoutes(t testing.TB, api map[string]http.Handler) {
	t.Helper()
	d.CheckRoutes(t, append(service.Routes(), slices.Collect(maps.Keys(api))...))
}

// Headers of the requests a conformance test sends: a JSON body, alone or
// with the admin token; a body of another type with the token (for 415).
var JSON = map[string]string{"Content-Type": "application/json"}

// Admin returns the headers of a body of contentType sent with token.
func Admin(token, contentType string) map[string]string {
	return map[string]string{"Content-Type": contentType, "Authorization": "Bearer " + token}
}

// CheckKitRoutes checks the routes that the kit (messaging/service.Routes)
// serves beside every service's API, as Check does: liveness, readiness
// of the running (so ready) service, metrics in each format and the
// document itself, which must be the one d was loaded from.
func (d *Document) CheckKitRoutes(t testing.TB, baseURL string) {
	t.Helper()
	for _, c := range []Case{
		{Method: http.MethodGet, Path: "/healthz", Status: http.StatusOK},
		{Method: http.MethodGet, Path: "/readyz", Status: http.StatusOK},
		{Method: http.MethodGet, Path: "/metrics", Status: http.StatusOK},
		{Method: http.MethodGet, Path: "/metrics", Status: http.StatusOK,
			Header: map[string]string{"Accept": "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"}},
	} {
		d.Check(t, baseURL, c)
	}
	served := d.Check(t, baseURL, Case{Method: http.MethodGet, Path: "/openapi.json", Status: http.StatusOK})
	if !bytes.Equal(served.Body, d.raw) {
		t.Error("GET /openapi.json does not serve the service's OpenAPI document")
	}
}
