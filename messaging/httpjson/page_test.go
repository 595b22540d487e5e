package httpjson

import (
	"net/url"
	"strings"
	"testing"
)

func TestPageQuery(t *testing.T) {
	upper := func(s string) (string, bool) { return strings.ToUpper(s), s != "bad" }
	for _, tt := range []struct {
		query    string
		after    string
		limit    int
		problems int
	}{
		{"", "", DefaultPageSize, 0},
		{"limit=2&after=k", "K", 2, 0},
		{"limit=500", "", 500, 0},
		{"limit=0", "", 0, 1},
		{"limit=501", "", 501, 1},
		{"limit=x&after=bad", "", 0, 2},
	} {
		q, _ := url.ParseQuery(tt.query)
		after, limit, problems := PageQuery(q, upper)
		if after != tt.after || len(problems) != tt.problems || (tt.problems == 0 && limit != tt.limit) {
			t.Errorf("%q: after %q, limit %d, problems %v; want %q, %d, %d problems", tt.query, after, limit, problems, tt.after, tt.limit, tt.problems)
		}
	}
}

func TestCut(t *testing.T) {
	id := func(s string) string { return s }
	if got, next := Cut([]string{"a", "b", "c"}, 2, id); len(got) != 2 || next != "b" {
		t.Errorf("three read for two: %v next %q, want [a b] next b", got, next)
	}
	if got, next := Cut([]string{"a", "b"}, 2, id); len(got) != 2 || next != "" {
		t.Errorf("two read for two: %v next %q, want both and no next", got, next)
	}
	if got, next := Cut[string](nil, 2, id); got == nil || len(got) != 0 || next != "" {
		t.Errorf("none: %#v next %q, want an empty list (JSON [])", got, next)
	}
}
