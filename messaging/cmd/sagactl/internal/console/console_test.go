package console

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Without an admin token the console refuses every replay, and a page
// whose source is missing or whose query is wrong says so.
func TestConsoleRefusesWritesWithoutATokenAndSaysWhatIsMissing(t *testing.T) {
	h, err := (&Server{}).Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, tt := range []struct {
		method, path string
		form         url.Values
		code         int
		says         string
	}{
		{"POST", "/replay", url.Values{"topic": {"stock.dlt"}, "token": {""}}, http.StatusForbidden, "replays are disabled"},
		{"GET", "/sagas", nil, http.StatusServiceUnavailable, "without the order database"},
		{"GET", "/dlt?topic=orders", nil, http.StatusBadRequest, "topic: want one of stock.dlt, payment.dlt, order.dlt"},
		{"GET", "/dlt?reason=bogus", nil, http.StatusBadRequest, "reason: want rejected, error or poison"},
		{"GET", "/static/console.js", nil, http.StatusOK, "data-refresh"},
		{"GET", "/", nil, http.StatusServiceUnavailable, "without the order database"}, // redirected to /sagas
	} {
		var resp *http.Response
		if tt.method == "POST" {
			resp, err = http.PostForm(srv.URL+tt.path, tt.form)
		} else {
			resp, err = http.Get(srv.URL + tt.path)
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code || !strings.Contains(string(body), tt.says) {
			t.Errorf("%s %s: %d %q, want %d saying %q", tt.method, tt.path, resp.StatusCode, body, tt.code, tt.says)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("%s %s: Content-Security-Policy %q", tt.method, tt.path, csp)
		}
	}
}
