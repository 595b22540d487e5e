package dlt

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestHeadersBoundTheErrorWithoutSplittingACharacter(t *testing.T) {
	tests := []struct {
		name string
		err  string
		want int // bytes of dlt-error
	}{
		{"short", "boom", 4},
		{"ascii", strings.Repeat("x", 5000), 1000},
		{"two-byte characters across the bound", "x" + strings.Repeat("é", 1000), 999},
		{"three-byte characters", strings.Repeat("€", 1000), 999},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Failure{Reason: ReasonError, Err: tt.err}.Headers()[HeaderError]
			if !utf8.ValidString(got) {
				t.Errorf("dlt-error is not valid UTF-8: ends %q", got[max(0, len(got)-4):])
			}
			if got, want := len(got), tt.want; got != want {
				t.Errorf("dlt-error has %d bytes, want %d", got, want)
			}
		})
	}
}
