package problem

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

// An Edge maps its domain's sentinels once: 404 naming the path's
// resource, 422 with or without the list of a joined error's failures,
// 500 for anything else, which alone is logged.
func TestEdgeFail(t *testing.T) {
	errNotFound, errInvalid := errors.New("not found"), errors.New("invalid")
	joined := errors.Join(fmt.Errorf("%w: name is empty", errInvalid), fmt.Errorf("%w: price is negative", errInvalid))
	tests := []struct {
		name   string
		list   bool
		err    error
		answer string
	}{
		{"not found", false, fmt.Errorf("store: %w", errNotFound),
			`{"type":"about:blank","title":"Not Found","status":404,"detail":"thing a b not found"}`},
		{"joined, listed", true, joined,
			`{"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"the thing is invalid","errors":["invalid: name is empty","invalid: price is negative"]}`},
		{"joined, not listed", false, joined,
			`{"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"invalid: name is empty\ninvalid: price is negative"}`},
		{"one, listed", true, fmt.Errorf("%w: id too long", errInvalid),
			`{"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"invalid: id too long"}`},
		{"other", true, errors.New("connection refused"),
			`{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"internal error"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			e := Edge{Resource: "thing", NotFound: errNotFound, Invalid: errInvalid, ListInvalid: tt.list,
				Log: slog.New(slog.NewTextHandler(&logs, nil))}
			r := httptest.NewRequest("GET", "/things/a%20b", nil)
			r.SetPathValue("id", "a b")
			w := httptest.NewRecorder()
			e.Fail(w, r, tt.err)
			if got := strings.TrimSpace(w.Body.String()); got != tt.answer {
				t.Errorf("answer %s, want %s", got, tt.answer)
			}
			if logged, want := logs.Len() > 0, strings.HasSuffix(tt.answer, `"internal error"}`); logged != want {
				t.Errorf("logged = %v, want %v: %s", logged, want, logs.String())
			}
		})
	}
}
