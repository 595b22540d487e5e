package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/purchase-saga/messaging/servicetest"
)

// Client mistakes found by an attacker's tour (issue 7): each is a 4xx
// problem, never a 500 nor a stored account.
func TestHostileInputIsAClientError(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.Do(t, "PUT", "/accounts/c1", "", admin, "")
	tests := []struct {
		name, method, path, body, contentType string
		status                                int
	}{
		{"body without content type", "PUT", "/accounts/c2", `{"currency":"EUR"}`, "", 415},
		{"id of 129 characters", "PUT", "/accounts/" + strings.Repeat("x", 129), "", "", 422},
		{"id of 3 KB", "PUT", "/accounts/" + strings.Repeat("x", 3000), "", "", 422},
		{"NUL in id", "PUT", "/accounts/c2%00", "", "", 422},
		{"invalid UTF-8 in id", "PUT", "/accounts/%FF", "", "", 422},
		{"NUL in currency", "PUT", "/accounts/c2", `{"currency":"EUR\u0000"}`, jsonType, 400},
		{"invalid UTF-8 body", "PUT", "/accounts/c2", "{\"currency\":\"\xff\"}", jsonType, 400},
		{"get NUL id", "GET", "/accounts/c1%00", "", "", 404},
		{"get invalid UTF-8 id", "GET", "/accounts/%FF", "", "", 404},
		{"deposit to NUL id", "POST", "/accounts/c1%00/deposits", `{"amount_cents":1}`, jsonType, 404},
		{"deposit to invalid UTF-8 id", "POST", "/accounts/%FF/deposits", `{"amount_cents":1}`, jsonType, 404},
		{"deposit beyond int64", "POST", "/accounts/c1/deposits", `{"amount_cents":9223372036854775808}`, jsonType, 422},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.Do(t, tt.method, tt.path, tt.body, admin, tt.contentType)
			servicetest.CheckProblem(t, r, tt.status)
			if strings.Contains(r.Raw, "struct") || strings.Contains(r.Raw, "int64") {
				t.Errorf("answer names a Go type: %s", r.Raw)
			}
		})
	}
	if r := s.Do(t, "GET", "/accounts/c2", "", "", ""); r.Status != http.StatusNotFound {
		t.Errorf("a refused PUT created account c2: GET status %d, want 404", r.Status)
	}
	if r := s.Do(t, "PUT", "/accounts/c3", "", admin, ""); r.Status != http.StatusCreated {
		t.Errorf("PUT without body nor content type: status %d %s, want 201", r.Status, r.Raw)
	}
}
