package openapitest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

const doc = `{
  "openapi": "3.1.1",
  "info": {"title": "things", "version": "1"},
  "paths": {
    "/things/{id}": {
      "get": {
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {
          "200": {"description": "the thing", "content": {"application/json": {"schema": {
            "type": "object", "required": ["id", "n"], "additionalProperties": false,
            "properties": {"id": {"type": "string"}, "n": {"type": "integer", "minimum": 0}}}}}},
          "202": {"description": "nothing to say"},
          "404": {"description": "no such thing", "content": {"application/problem+json": {"schema": {"type": "object"}}}}
        }
      }
    }
  }
}`

// serve answers GET /things/{id} with status, content type and body as
// the id names them: "ok", "extra" (an undocumented field), "negative",
// "text" (a documented status in another content type), "teapot" (an
// undocumented status), "chatty" (a body where none is documented) and
// anything else 404.
func serve(t *testing.T) string {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things/{id}", func(w http.ResponseWriter, r *http.Request) {
		answer := map[string]struct {
			status     int
			ctype, say string
		}{
			"ok":       {200, "application/json", `{"id":"ok","n":1}`},
			"extra":    {200, "application/json", `{"id":"extra","n":1,"secret":true}`},
			"negative": {200, "application/json", `{"id":"negative","n":-1}`},
			"text":     {200, "text/plain", `ok`},
			"teapot":   {418, "application/json", `{}`},
			"chatty":   {202, "application/json", `{}`},
		}
		a, ok := answer[r.PathValue("id")]
		if !ok {
			a.status, a.ctype, a.say = 404, "application/problem+json", `{"status":404}`
		}
		w.Header().Set("Content-Type", a.ctype)
		w.WriteHeader(a.status)
		fmt.Fprint(w, a.say)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Errorf(f string, a ...any) { r.failures = append(r.failures, fmt.Sprintf(f, a...)) }
func (r *recorder) Fatalf(f string, a ...any) { r.Errorf(f, a...); runtime.Goexit() }

// failures runs check as a test would and returns what it reported.
func failures(t *testing.T, check func(testing.TB)) []string {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() { defer close(done); check(r) }()
	<-done
	return r.failures
}

func TestCheckFailsOnAnswersTheDocumentDoesNotDescribe(t *testing.T) {
	url := serve(t)
	d := Load(t, []byte(doc))
	for _, tt := range []struct {
		id     string
		status int
		want   string // in the failure; "" for none
	}{
		{"ok", 200, ""},
		{"nope", 404, ""},
		{"ok", 404, "status 200, want 404"},
		{"extra", 200, "does not match"},
		{"negative", 200, "does not match"},
		{"text", 200, "does not match"},
		{"teapot", 418, "does not match"},
		{"chatty", 202, "the document describes none"},
	} {
		got := failures(t, func(tb testing.TB) {
			d.Check(tb, url, Case{Method: "GET", Path: "/things/" + tt.id, Status: tt.status})
		})
		switch {
		case tt.want == "" && len(got) > 0:
			t.Errorf("%s: failures %q, want none", tt.id, got)
		case tt.want != "" && !strings.Contains(strings.Join(got, "\n"), tt.want):
			t.Errorf("%s: failures %q, want one saying %q", tt.id, got, tt.want)
		}
	}
}

func TestCheckRoutesComparesBothWays(t *testing.T) {
	d := Load(t, []byte(doc))
	if got := failures(t, func(tb testing.TB) { d.CheckRoutes(tb, []string{"GET /things/{id}"}) }); len(got) > 0 {
		t.Errorf("the served routes are the documented ones, yet: %q", got)
	}
	got := strings.Join(failures(t, func(tb testing.TB) { d.CheckRoutes(tb, []string{"GET /things/{id...}", "PUT /things/{id}"}) }), "\n")
	if !strings.Contains(got, "serves PUT /things/{id}, which its OpenAPI document does not document") {
		t.Errorf("an undocumented route is not reported: %q", got)
	}
	got = strings.Join(failures(t, func(tb testing.TB) { d.CheckRoutes(tb, nil) }), "\n")
	if !strings.Contains(got, "documents GET /things/{id}, which the service does not serve") {
		t.Errorf("a documented route that is not served is not reported: %q", got)
	}
}

func TestCheckExercisedNamesWhatNoRequestReached(t *testing.T) {
	url := serve(t)
	d := Load(t, []byte(doc))
	d.Check(t, url, Case{Method: "GET", Path: "/things/ok", Status: 200})
	got := strings.Join(failures(t, func(tb testing.TB) { d.CheckExercised(tb, map[string]string{"GET /things/{id} 200": "why"}) }), "\n")
	for _, want := range []string{"GET /things/{id} 404", "GET /things/{id} 202", "GET /things/{id} 200 is listed as not exercised"} {
		if !strings.Contains(got, want) {
			t.Errorf("failures %q lack %q", got, want)
		}
	}
}

func TestLoadRefusesAnInvalidDocument(t *testing.T) {
	for name, bad := range map[string]string{
		"not 3.1":       strings.Replace(doc, "3.1.1", "3.0.3", 1),
		"invalid":       strings.Replace(doc, `"description": "no such thing", `, "", 1),
		"not even JSON": `{"openapi":`,
	} {
		if got := failures(t, func(tb testing.TB) { Load(tb, []byte(bad)) }); len(got) == 0 {
			t.Errorf("%s: Load accepted it", name)
		}
	}
}
