package bearer

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRequireToken(t *testing.T) {
	h := Require("s3cret", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
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
	Require("", h).ServeHTTP(w, r)
	if w.Code != 401 {
		t.Errorf("an empty configured token let a request through")
	}
}

func TestGuardRequiresTheToken(t *testing.T) {
	admin := Guard("s3cret")
	h := admin(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for auth, want := range map[string]int{"": http.StatusUnauthorized, "Bearer s3cret": http.StatusNoContent} {
		r := httptest.NewRequest("PUT", "/", nil)
		r.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("Authorization %q: %d, want %d", auth, w.Code, want)
		}
	}
}
