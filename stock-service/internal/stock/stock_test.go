package stock_test

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/purchase-saga/stock-service/internal/stock"
)

func TestMergeSumsSortsAndValidates(t *testing.T) {
	l := func(id string, q int64) stock.Line { return stock.Line{ItemID: id, Quantity: q} }
	tests := []struct {
		name  string
		lines []stock.Line
		want  []stock.Line
		err   bool
	}{
		{"sorted and summed", []stock.Line{l("b", 1), l("a", 2), l("b", 3)}, []stock.Line{l("a", 2), l("b", 4)}, false},
		{"no lines", nil, nil, true},
		{"zero quantity", []stock.Line{l("a", 0)}, nil, true},
		{"empty item", []stock.Line{l("", 1)}, nil, true},
		{"overflowing sum", []stock.Line{l("a", math.MaxInt64), l("a", 1)}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := stock.Merge(tt.lines)
			if tt.err {
				if !errors.Is(err, stock.ErrInvalid) {
					t.Errorf("err = %v, want stock.ErrInvalid", err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("Merge = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestCheckRefusesWhatCannotBeReservedWhole(t *testing.T) {
	items := map[string]stock.Item{
		"a":   {ID: "a", Currency: "EUR", OnHand: 5, Reserved: 3},
		"b":   {ID: "b", Currency: "EUR", OnHand: 9},
		"usd": {ID: "usd", Currency: "USD", OnHand: 9},
	}
	tests := []struct {
		name  string
		lines []stock.Line
		want  stock.Reason
	}{
		{"all available", []stock.Line{{"a", 2}, {"b", 9}}, ""},
		{"one line short", []stock.Line{{"a", 3}, {"b", 1}}, stock.ReasonOutOfStock},
		{"unknown item", []stock.Line{{"a", 1}, {"x", 1}}, stock.ReasonUnknownItem},
		{"other currency", []stock.Line{{"usd", 1}}, stock.ReasonCurrencyMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got stock.Reason
			if r := stock.Check(tt.lines, items, "EUR"); r != nil {
				got = r.Reason
			}
			if got != tt.want {
				t.Errorf("Check = %q, want %q", got, tt.want)
			}
		})
	}
}
