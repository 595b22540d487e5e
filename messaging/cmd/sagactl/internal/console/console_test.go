package console

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/purchase-saga/messaging/cmd/sagactl/internal/timeline"
	"github.com/purchase-saga/messaging/testbroker"
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

// A replay needs the admin token (form field or bearer), and a write from
// another origin is refused whatever it carries.
func TestReplayNeedsTheTokenAndTheConsolesOrigin(t *testing.T) {
	b := testbroker.New(t, 1, "payment", "payment.dlt")
	h, err := (&Server{Src: timeline.Sources{Brokers: b.Addrs}, Token: "sesame"}).Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	post := func(token string, headers ...string) (int, string) {
		t.Helper()
		form := url.Values{"topic": {"payment.dlt"}, "token": {token}}
		req, _ := http.NewRequest("POST", srv.URL+"/replay", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := post("wrong"); code != http.StatusUnauthorized || !strings.Contains(body, "wrong or missing admin token") {
		t.Errorf("replay with a wrong token: %d %q, want 401", code, body)
	}
	if code, _ := post("sesame", "Origin", "http://elsewhere.example", "Sec-Fetch-Site", "cross-site"); code != http.StatusForbidden {
		t.Errorf("replay from another origin: %d, want 403", code)
	}
	if code, body := post("sesame"); code != http.StatusOK || !strings.Contains(body, "replayed 0 record(s) from payment.dlt, skipped 0") {
		t.Errorf("replay with the token: %d %q, want 200 and what it replayed", code, body)
	}
	if code, body := post("", "Authorization", "Bearer sesame"); code != http.StatusOK || !strings.Contains(body, "replayed 0 record(s)") {
		t.Errorf("replay with the token as a bearer: %d %q, want 200", code, body)
	}
}
