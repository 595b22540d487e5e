package servicetest

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/purchase-saga/messaging/testdb"
)

// Response is what a request got back.
type Response struct {
	Status      int
	ContentType string
	// Body is the JSON object answered; nil when the answer is not one.
	Body map[string]any
	Raw  string
}

// Do sends body to url with the Authorization header authorization and
// the Content-Type contentType, each left out when empty, and reads the
// whole answer.
func Do(t testing.TB, method, url, body, authorization, contentType string) Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := Response{Status: res.StatusCode, ContentType: res.Header.Get("Content-Type"), Raw: string(raw)}
	_ = json.Unmarshal(raw, &r.Body)
	return r
}

// CheckProblem checks that r is an RFC 9457 problem of status, with a
// detail, as messaging/problem writes one.
func CheckProblem(t testing.TB, r Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Errorf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	if got, want := r.ContentType, "application/problem+json"; got != want {
		t.Errorf("content type %q, want %q", got, want)
	}
	if r.Body["status"] != float64(status) || r.Body["detail"] == "" {
		t.Errorf("problem body %s, want status %d and a detail", r.Raw, status)
	}
}

// Admin sends body as JSON to url with "Authorization: Bearer token", as
// an operator would, and fails the test unless the answer is a success
// in JSON.
func Admin(t testing.TB, method, url, body, token string) Response {
	t.Helper()
	r := Do(t, method, url, body, "Bearer "+token, "application/json")
	if r.Status >= 300 {
		t.Fatalf("%s %s: status %d", method, url, r.Status)
	}
	if err := json.Unmarshal([]byte(r.Raw), new(any)); err != nil {
		t.Fatalf("%s %s: answer %q: %v", method, url, r.Raw, err)
	}
	return r
}

// Server is what a service's API tests work on: a fresh database with the
// service's schema, and the service's API served over it.
type Server struct {
	DB  *testdb.DB
	URL string
}

// NewServer serves the handler that api makes of the pool of a fresh
// database, which migrate prepares, on a loopback port until the test
// ends.
func NewServer(t testing.TB, migrate func(context.Context, *sql.DB) error, api func(*pgxpool.Pool) http.Handler) *Server {
	t.Helper()
	db := testdb.New(t, migrate)
	srv := httptest.NewServer(api(db.Pool))
	t.Cleanup(srv.Close)
	return &Server{DB: db, URL: srv.URL}
}

// Do sends a request to path on the server (see Do).
func (s *Server) Do(t testing.TB, method, path, body, authorization, contentType string) Response {
	t.Helper()
	return Do(t, method, s.URL+path, body, authorization, contentType)
}
