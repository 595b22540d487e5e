package problem

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	type body struct {
		Name string `json:"name"`
	}
	tests := []struct {
		name, contentType, body string
		allowEmpty              bool
		status                  int
	}{
		{"valid", "application/json", `{"name":"x"}`, false, 0},
		{"charset", "application/json; charset=utf-8", `{"name":"x"}`, false, 0},
		{"wrong type", "text/plain", `{"name":"x"}`, false, http.StatusUnsupportedMediaType},
		{"no type", "", `{"name":"x"}`, false, http.StatusUnsupportedMediaType},
		{"malformed", "application/json", `{"name":`, false, http.StatusBadRequest},
		{"unknown field", "application/json", `{"nom":"x"}`, false, http.StatusBadRequest},
		{"wrong field type", "application/json", `{"name":1}`, false, http.StatusBadRequest},
		{"trailing data", "application/json", `{"name":"x"} {}`, false, http.StatusBadRequest},
		{"empty required", "application/json", ``, false, http.StatusBadRequest},
		{"empty allowed", "", ``, true, 0},
		{"too large", "application/json", `{"name":"` + strings.Repeat("x", MaxBody) + `"}`, false, http.StatusRequestEntityTooLarge},
		{"body without type when empty is allowed", "", `{"name":"x"}`, true, http.StatusUnsupportedMediaType},
		{"blank body without type", "", " \n", true, 0},
		{"invalid UTF-8", "application/json", "{\"name\":\"\xff\"}", false, http.StatusBadRequest},
		{"escaped NUL", "application/json", `{"name":"a\u0000b"}`, false, http.StatusBadRequest},
		{"escaped backslash before u0000", "application/json", `{"name":"a\\u0000b"}`, false, 0},
		{"not an object", "application/json", `[1]`, false, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			var v body
			err := Decode(httptest.NewRecorder(), r, &v, tt.allowEmpty)
			var p *Details
			switch {
			case tt.status == 0 && err != nil:
				t.Errorf("Decode = %v, want success", err)
			case tt.status != 0 && (!errors.As(err, &p) || p.Status != tt.status):
				t.Errorf("Decode = %v, want status %d", err, tt.status)
			}
		})
	}
}

func TestDecodeNamesJSONKindsNotGoTypes(t *testing.T) {
	type line struct {
		Quantity int64 `json:"quantity"`
	}
	type request struct {
		Name  string `json:"name"`
		Lines []line `json:"lines"`
	}
	tests := []struct {
		body   string
		status int
		detail string
	}{
		{`{"lines":[{"quantity":"two"}]}`, 400, `malformed JSON: field "lines.quantity" must be a whole number, not string`},
		{`{"name":1}`, 400, `malformed JSON: field "name" must be a string, not number`},
		{`{"lines":{}}`, 400, `malformed JSON: field "lines" must be an array, not object`},
		{`[]`, 400, `malformed JSON: the body must be an object, not array`},
		{`{"lines":[{"quantity":1e30}]}`, 422, `field "lines.quantity" must be a whole number in range, not number 1e30`},
		{`{"lines":[{"quantity":1.5}]}`, 422, `field "lines.quantity" must be a whole number in range, not number 1.5`},
		{`{"name":"x"`, 400, `malformed JSON: the body ends early`},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
		r.Header.Set("Content-Type", "application/json")
		var p *Details
		if err := Decode(httptest.NewRecorder(), r, &request{}, false); !errors.As(err, &p) {
			t.Errorf("Decode(%s) = %v, want a problem", tt.body, err)
			continue
		}
		if got, want := p.Status, tt.status; got != want {
			t.Errorf("Decode(%s): status %d, want %d", tt.body, got, want)
		}
		if got, want := p.Detail, tt.detail; got != want {
			t.Errorf("Decode(%s): detail %q, want %q", tt.body, got, want)
		}
		if strings.Contains(p.Detail, "problem.") || strings.Contains(p.Detail, "int64") || strings.Contains(p.Detail, "Go ") {
			t.Errorf("Decode(%s): detail %q names a Go type", tt.body, p.Detail)
		}
	}
}

func TestWriteBoundsDetailAndErrors(t *testing.T) {
	tests := []struct {
		name       string
		errors     int
		wantErrors int
		wantLast   string
	}{
		{"none", 0, 0, ""},
		{"a few", 3, 3, "e"},
		{"exactly the bound", MaxErrors, MaxErrors, "e"},
		{"many", 40000, MaxErrors + 1, "and 39980 more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New(http.StatusUnprocessableEntity, strings.Repeat("é", MaxDetail))
			for range tt.errors {
				p.Errors = append(p.Errors, "e")
			}
			w := httptest.NewRecorder()
			Write(w, p)
			var got Details
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if len(got.Detail) > MaxDetail || !strings.HasPrefix(p.Detail, got.Detail) || strings.ContainsRune(got.Detail, '\uFFFD') {
				t.Errorf("detail of %d bytes, want at most %d whole characters", len(got.Detail), MaxDetail)
			}
			if got, want := len(got.Errors), tt.wantErrors; got != want {
				t.Fatalf("%d errors listed, want %d", got, want)
			}
			if tt.wantErrors > 0 {
				if got, want := got.Errors[len(got.Errors)-1], tt.wantLast; got != want {
					t.Errorf("last error %q, want %q", got, want)
				}
			}
			if got, want := len(p.Errors), tt.errors; got != want {
				t.Errorf("Write changed the problem's errors: %d, want %d", got, want)
			}
		})
	}
}

func TestRequireToken(t *testing.T) {
	h := RequireToken("s3cret", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	for auth, want := range map[string]int{"": 401, "Bearer nope": 401, "s3cret": 401, "Bearer s3cret": 204} {
		r := httptest.NewRequest("PUT", "/", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("Authorization %q: %d, want %d", auth, w.Code, want)
		}
		if want == 401 && w.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("401 is not problem+json")
		}
	}
	w := httptest.NewRecorder()
	r := httptest.NewRequest("PUT", "/", nil)
	r.Header.Set("Authorization", "Bearer ")
	RequireToken("", h).ServeHTTP(w, r)
	if w.Code != 401 {
		t.Errorf("an empty configured token let a request through")
	}
}

func TestFail(t *testing.T) {
	errMissing := errors.New("missing")
	known := func(err error) *Details {
		if errors.Is(err, errMissing) {
			return New(http.StatusNotFound, "no such thing")
		}
		return nil
	}
	tests := []struct {
		name   string
		err    error
		status int
		detail string
		logged bool
	}{
		{"problem", fmt.Errorf("decode: %w", New(http.StatusBadRequest, "malformed")), 400, "malformed", false},
		{"known", fmt.Errorf("store: %w", errMissing), 404, "no such thing", false},
		{"other", errors.New("connection refused to 10.0.0.1"), 500, "internal error", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			w := httptest.NewRecorder()
			Fail(w, httptest.NewRequest("GET", "/things/1", nil), slog.New(slog.NewTextHandler(&logs, nil)), tt.err, known)
			var p Details
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || w.Code != tt.status || p.Status != tt.status || p.Detail != tt.detail {
				t.Errorf("answer %d %s (%v), want %d with detail %q", w.Code, w.Body, err, tt.status, tt.detail)
			}
			if got := w.Header().Get("Content-Type"); got != "application/problem+json" {
				t.Errorf("content type %q, want application/problem+json", got)
			}
			if logged := strings.Contains(logs.String(), "request failed"); logged != tt.logged {
				t.Errorf("logged = %v, want %v: %s", logged, tt.logged, logs.String())
			}
		})
	}
}

func TestPut(t *testing.T) {
	for created, want := range map[bool]int{true: http.StatusCreated, false: http.StatusOK} {
		w := httptest.NewRecorder()
		Put(w, created, "/things/1", map[string]int{"n": 1})
		if w.Code != want || strings.TrimSpace(w.Body.String()) != `{"n":1}` {
			t.Errorf("created %v: %d %s, want %d with the value", created, w.Code, w.Body, want)
		}
		if got, want := w.Header().Get("Location"), map[bool]string{true: "/things/1"}[created]; got != want {
			t.Errorf("created %v: Location %q, want %q", created, got, want)
		}
	}
}

func TestRoutedAnswersUnknownRoutesWithProblems(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things/{id}", func(w http.ResponseWriter, _ *http.Request) { JSON(w, 200, map[string]string{"ok": "yes"}) })
	h := Routed(mux)
	for _, tt := range []struct {
		method, path string
		want         int
		wantType     string
	}{
		{"GET", "/things/1", 200, "application/json"},
		{"GET", "/nowhere", 404, "application/problem+json"},
		{"DELETE", "/things/1", 405, "application/problem+json"},
		{"GET", "/things/a%00b", 400, "application/problem+json"},
		{"GET", "/things/%FF", 400, "application/problem+json"},
		{"GET", "/things/%C3%A9", 200, "application/json"},
		{"GET", "/things/1?q=a%00", 400, "application/problem+json"},
		{"GET", "/things/1?a%00=1", 400, "application/problem+json"},
		{"GET", "/things/1?q=%FF", 400, "application/problem+json"},
		{"GET", "/things/1?q=%zz", 400, "application/problem+json"},
		{"GET", "/things/1?q=%C3%A9", 200, "application/json"},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
		if w.Code != tt.want || w.Header().Get("Content-Type") != tt.wantType {
			t.Errorf("%s %s: %d %s, want %d %s", tt.method, tt.path, w.Code, w.Header().Get("Content-Type"), tt.want, tt.wantType)
		}
		if tt.want != 200 && !strings.Contains(w.Body.String(), `"status":`) {
			t.Errorf("%s %s: body %q is not a problem", tt.method, tt.path, w.Body.String())
		}
	}
}
