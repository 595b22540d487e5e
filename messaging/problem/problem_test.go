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

func TestRoutedAnswersUnknownRoutesWithProblems(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things/{id}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":"yes"}`))
	})
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
