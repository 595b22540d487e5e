package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/purchase-saga/messaging/servicetest"
)

// Client mistakes found by an attacker's tour (issue 7): each is a 4xx
// problem, never a 500 nor a stored item.
func TestHostileInputIsAClientError(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.do(t, http.MethodPut, "/items/a", `{"name":"A","price_cents":1,"currency":"EUR"}`, true, jsonType)
	item := func(name string) string { return `{"name":"` + name + `","price_cents":1,"currency":"EUR"}` }
	tests := []struct {
		name, method, path, body string
		status                   int
	}{
		{"id of 129 characters", "PUT", "/items/" + strings.Repeat("x", 129), item("B"), 422},
		{"NUL in id", "PUT", "/items/b%00", item("B"), 422},
		{"invalid UTF-8 in id", "PUT", "/items/%FF", item("B"), 422},
		{"name of 201 characters", "PUT", "/items/b", item(strings.Repeat("n", 201)), 422},
		{"name of 1 MB", "PUT", "/items/b", item(strings.Repeat("n", 1<<20-100)), 422},
		{"NUL in name", "PUT", "/items/b", item(`B\u0000`), 400},
		{"invalid UTF-8 in name", "PUT", "/items/b", item("B\xff"), 400},
		{"price beyond int64", "PUT", "/items/b", `{"name":"B","price_cents":1e30,"currency":"EUR"}`, 422},
		{"get NUL id", "GET", "/items/a%00", "", 404},
		{"get invalid UTF-8 id", "GET", "/items/%FF", "", 404},
		{"get id of 3 KB", "GET", "/items/" + strings.Repeat("x", 3000), "", 404},
		{"restock NUL id", "POST", "/items/a%00/restock", `{"quantity":1}`, 404},
		{"restock invalid UTF-8 id", "POST", "/items/%FF/restock", `{"quantity":1}`, 404},
		{"restock beyond the cap", "POST", "/items/a/restock", `{"quantity":1000000001}`, 422},
		{"restock beyond int64", "POST", "/items/a/restock", `{"quantity":9223372036854775808}`, 422},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, tt.method, tt.path, tt.body, true, jsonType)
			servicetest.CheckProblem(t, r, tt.status)
			if strings.Contains(r.Raw, "api.") || strings.Contains(r.Raw, "int64") {
				t.Errorf("answer names a Go type: %s", r.Raw)
			}
		})
	}
	if got := s.do(t, http.MethodGet, "/items/b", "", false, "").Status; got != http.StatusNotFound {
		t.Errorf("a refused PUT created item b: GET status %d, want 404", got)
	}
	assertSnapshots(t, s, "a", []int64{0})
}
