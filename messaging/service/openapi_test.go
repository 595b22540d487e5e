package service

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// The kit serves a service's OpenAPI document as given, as JSON, and
// answers a problem when the service has none.
func TestServesTheOpenAPIDocument(t *testing.T) {
	t.Parallel()
	doc := `{"openapi":"3.1.1"}`
	for _, tt := range []struct {
		doc         []byte
		status      int
		contentType string
		body        string
	}{
		{[]byte(doc), http.StatusOK, "application/json", doc},
		{nil, http.StatusNotFound, "application/problem+json", ""},
	} {
		w := httptest.NewRecorder()
		(&Service{OpenAPI: tt.doc}).routes(nil).ServeHTTP(w, httptest.NewRequest(http.MethodGet, OpenAPIPath, nil))
		body, _ := io.ReadAll(w.Body)
		if w.Code != tt.status || w.Header().Get("Content-Type") != tt.contentType || (tt.body != "" && string(body) != tt.body) {
			t.Errorf("document %q: %d %s %s, want %d %s", tt.doc, w.Code, w.Header().Get("Content-Type"), body, tt.status, tt.contentType)
		}
	}
}

// Routes lists what routes registers: each is served by the kit, not
// passed on to the service's API.
func TestRoutesListsWhatTheKitServes(t *testing.T) {
	t.Parallel()
	if got, want := Routes(), []string{"GET /healthz", "GET /metrics", "GET /openapi.json", "GET /readyz"}; !slices.Equal(got, want) {
		t.Errorf("Routes() = %q, want %q", got, want)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := (&Service{OpenAPI: []byte("{}")}).routes(app)
	for _, path := range []string{"/healthz", "/metrics", OpenAPIPath} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusOK {
			t.Errorf("GET %s: %d, want 200 from the kit", path, w.Code)
		}
	}
}
