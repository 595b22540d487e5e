package api_test

import (
	"strings"
	"testing"
)

// Client mistakes found by an attacker's tour (issue 7): each is a 4xx
// problem, never a 500 nor an accepted order.
func TestPlaceRefusesHostileInput(t *testing.T) {
	f := newFixture(t)
	order := func(customer, quantity string) string {
		return `{"customer_id":"` + customer + `","lines":[{"item_id":"book","quantity":` + quantity + `}]}`
	}
	dupLines := strings.Repeat(`{"item_id":"book","quantity":1},`, 30000)
	tests := []struct {
		name, body string
		headers    []string
		want       int
	}{
		{"customer id of 3 KB", order(strings.Repeat("c", 3000), "1"), nil, 422},
		{"customer id of 230 KB", order(strings.Repeat("c", 230_000), "1"), nil, 422},
		{"customer id of 129 characters", order(strings.Repeat("c", 129), "1"), nil, 422},
		{"item id of 129 characters", `{"customer_id":"c1","lines":[{"item_id":"` + strings.Repeat("b", 129) + `","quantity":1}]}`, nil, 422},
		{"quantity that wraps the total", order("c1", "7378697629483821"), nil, 422},
		{"quantity over the cap", order("c1", "1000001"), nil, 422},
		{"quantity beyond int64", order("c1", "100000000000000000000"), nil, 422},
		{"NUL in customer id", order(`c\u0000`, "1"), nil, 400},
		{"NUL in item id", `{"customer_id":"c1","lines":[{"item_id":"bo\u0000ok","quantity":1}]}`, nil, 400},
		{"invalid UTF-8", order("c\xff", "1"), nil, 400},
		{"Idempotency-Key of 5 KB", book1, []string{"Idempotency-Key", strings.Repeat("k", 5000)}, 400},
		{"Idempotency-Key of 256 bytes", book1, []string{"Idempotency-Key", strings.Repeat("k", 256)}, 400},
		{"1 MB of duplicate lines", `{"customer_id":"c1","lines":[` + dupLines + `{"item_id":"book","quantity":1}]}`, nil, 422},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := f.do("POST", "/orders", "application/json", tt.body, tt.headers...)
			if code != tt.want {
				t.Errorf("status %d, want %d: %.300v", code, tt.want, body)
			}
		})
	}
	if code, _, body := f.do("POST", "/orders", "application/json", book1, "Idempotency-Key", strings.Repeat("k", 255)); code != 201 {
		t.Errorf("Idempotency-Key of 255 bytes: %d %v, want 201", code, body)
	}
}

func TestProblemsAreShortAndNameNoGoType(t *testing.T) {
	f := newFixture(t)
	dup := `{"customer_id":"c1","lines":[` + strings.Repeat(`{"item_id":"book","quantity":1},`, 30000) + `{"item_id":"book","quantity":1}]}`
	raw := f.raw("POST", "/orders", "application/json", dup)
	if len(raw) > 16<<10 {
		t.Errorf("answer to 30,000 duplicate lines has %d bytes, want at most 16 KiB", len(raw))
	}
	if !strings.Contains(raw, "more") {
		t.Errorf("answer %.300s… does not say how many more problems there are", raw)
	}
	for _, body := range []string{`[]`, `{"customer_id":1}`, `{"customer_id":"c1","lines":[{"item_id":"book","quantity":"two"}]}`, `{"customer_id":"c1","lines":{}}`} {
		raw := f.raw("POST", "/orders", "application/json", body)
		if strings.Contains(raw, "saga.") || strings.Contains(raw, "int64") || strings.Contains(raw, "Go ") {
			t.Errorf("answer to %s names a Go type: %s", body, raw)
		}
	}
}

func TestOrderIDsAreCanonicalUUIDs(t *testing.T) {
	f := newFixture(t)
	const id = "01900000-0000-7000-8000-000000000000"
	for _, path := range []string{
		"/orders/urn:uuid:" + id,
		"/orders/%7B" + id + "%7D",
		"/orders/" + strings.ReplaceAll(id, "-", ""),
		"/orders/" + id + "%00",
		"/orders/%FF",
		"/orders/" + strings.Repeat("a", 3000),
	} {
		if code, _, body := f.do("GET", path, "", ""); code != 404 {
			t.Errorf("GET %s: %d %v, want 404", path, code, body)
		}
	}
	for _, query := range []string{
		"after=urn:uuid:" + id,
		"after=%7B" + id + "%7D",
		"after=" + strings.ReplaceAll(id, "-", ""),
		"after=" + id + "%00",
		"customer_id=c%00",
		"customer_id=%FF",
		"customer_id=" + strings.Repeat("c", 3000),
	} {
		if code, _, body := f.do("GET", "/orders?"+query, "", ""); code != 400 {
			t.Errorf("GET /orders?%.80s: %d %v, want 400", query, code, body)
		}
	}
	if code, _, _ := f.do("GET", "/orders?after="+strings.ToUpper(id), "", ""); code != 200 {
		t.Errorf("GET /orders?after= an upper-case id: %d, want 200", code)
	}
	for _, path := range []string{"/catalog/%00", "/catalog/%FF", "/catalog/" + strings.Repeat("b", 3000)} {
		if code, _, body := f.do("GET", path, "", ""); code != 404 {
			t.Errorf("GET %.80s: %d %v, want 404", path, code, body)
		}
	}
}
