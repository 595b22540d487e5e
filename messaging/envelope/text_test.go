package envelope

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncateKeepsWholeCharacters(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exact", 5, "exact"},
		{"abcdef", 3, "abc"},
		{"aé", 2, "a"},   // é is two bytes: cutting at 2 would split it
		{"a€b", 3, "a"},  // € is three bytes
		{"a€b", 4, "a€"}, // a whole €
		{"😀😀", 5, "😀"},   // four-byte characters
		{"é", 0, ""},     // nothing
		{"abc", -1, ""},  // a negative bound is nothing, not a panic
	}
	for _, tt := range tests {
		got := Truncate(tt.s, tt.n)
		if got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
		if utf8.ValidString(tt.s) && !utf8.ValidString(got) {
			t.Errorf("Truncate(%q, %d) = %q is not valid UTF-8", tt.s, tt.n, got)
		}
	}
	long := strings.Repeat("é", 600)
	if got := Truncate(long, 1000); len(got) != 1000 || !utf8.ValidString(got) {
		t.Errorf("Truncate of 600 é to 1000 bytes: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if got := Truncate(long, 999); len(got) != 998 || !utf8.ValidString(got) {
		t.Errorf("Truncate of 600 é to 999 bytes: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
}

func TestContainsNUL(t *testing.T) {
	tests := []struct {
		value string
		want  bool
	}{
		{`{"a":"b"}`, false},
		{`{"a":"\u0000"}`, true},
		{`{"a\u0000":1}`, true},
		{"{\"a\":\"\x00\"}", true},
		{`{"a":"\\u0000"}`, false}, // an escaped backslash, then the text u0000
		{`{"a":"\\\u0000"}`, true}, // an escaped backslash, then a NUL
		{`{"a":"\"\u0000"}`, true}, // an escaped quote does not end the string
		{`{"a":"\u00001"}`, true},
		{`{"a":"\u0001"}`, false},
		{`{"a":"\u000"}`, false},
		{`"\`, false},
	}
	for _, tt := range tests {
		if got := ContainsNUL([]byte(tt.value)); got != tt.want {
			t.Errorf("ContainsNUL(%s) = %v, want %v", tt.value, got, tt.want)
		}
	}
}
