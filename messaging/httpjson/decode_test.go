package httpjson

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/purchase-saga/messaging/problem"
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
			var p *problem.Details
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
		var p *problem.Details
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
