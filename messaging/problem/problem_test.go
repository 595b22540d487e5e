package problem

import (
	"errors"
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
