package order

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"c1", true},
		{"", false},
		{strings.Repeat("x", MaxIDLength), true},
		{strings.Repeat("x", MaxIDLength+1), false},
		{strings.Repeat("é", MaxIDLength), true}, // characters, not bytes
		{strings.Repeat("x", 3000), false},
		{"a\x00b", false},
		{"a\xffb", false},
	}
	for _, tt := range tests {
		if got := ValidID(tt.id); got != tt.want {
			t.Errorf("ValidID(%.20q… %d bytes) = %v, want %v", tt.id, len(tt.id), got, tt.want)
		}
	}
}

func TestTotalRefusesOverflow(t *testing.T) {
	tests := []struct {
		name  string
		lines []Line
		want  int64
		err   bool
	}{
		{"priced", []Line{{"a", 2, 250}, {"b", 1, 99}}, 599, false},
		{"free", []Line{{"a", MaxQuantity, 0}}, 0, false},
		{"largest", []Line{{"a", 1, math.MaxInt64}}, math.MaxInt64, false},
		// The reproduction: 7,378,697,629,483,821 × 2,500 wraps to 884.
		{"product wraps", []Line{{"a", 7_378_697_629_483_821, 2500}}, 0, true},
		{"sum overflows", []Line{{"a", 1, math.MaxInt64}, {"b", 1, 1}}, 0, true},
		{"negative price", []Line{{"a", 1, -1}}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Total(tt.lines)
			if tt.err {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("Total = %d, %v; want ErrInvalid", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Total = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
	if _, err := New("o", "c", []Line{{"a", 7_378_697_629_483_821, 2500}}, "EUR", []StepName{Stock, Payment}, t0, timeout); !errors.Is(err, ErrInvalid) {
		t.Errorf("New of an overflowing order: %v, want ErrInvalid", err)
	}
}
