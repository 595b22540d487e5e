package stock_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/purchase-saga/contract/stockmsg"
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
		{"largest quantity", []stock.Line{l("a", stock.MaxQuantity)}, []stock.Line{l("a", stock.MaxQuantity)}, false},
		{"quantity over the cap", []stock.Line{l("a", stock.MaxQuantity+1)}, nil, true},
		{"quantity that would wrap a price", []stock.Line{l("a", 7_378_697_629_483_821)}, nil, true},
		{"longest item id", []stock.Line{l(strings.Repeat("é", stock.MaxIDLength), 1)}, []stock.Line{l(strings.Repeat("é", stock.MaxIDLength), 1)}, false},
		{"item id too long", []stock.Line{l(strings.Repeat("x", stock.MaxIDLength+1), 1)}, nil, true},
		{"NUL in item id", []stock.Line{l("a\x00", 1)}, nil, true},
		{"invalid UTF-8 in item id", []stock.Line{l("a\xff", 1)}, nil, true},
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
		want  string
	}{
		{"all available", []stock.Line{{"a", 2}, {"b", 9}}, ""},
		{"one line short", []stock.Line{{"a", 3}, {"b", 1}}, stockmsg.ReasonOutOfStock},
		{"unknown item", []stock.Line{{"a", 1}, {"x", 1}}, stockmsg.ReasonUnknownItem},
		{"other currency", []stock.Line{{"usd", 1}}, stockmsg.ReasonCurrencyMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := stock.Check(tt.lines, items, "EUR"); got != tt.want {
				t.Errorf("Check = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidateBoundsIDsNamesAndRestocks(t *testing.T) {
	ok := stock.Details{Name: "Book", PriceCents: 1, Currency: "EUR"}
	tests := []struct {
		name  string
		err   error
		valid bool
	}{
		{"id", stock.ValidateID("book-1"), true},
		{"longest id", stock.ValidateID(strings.Repeat("é", stock.MaxIDLength)), true},
		{"id too long", stock.ValidateID(strings.Repeat("x", stock.MaxIDLength+1)), false},
		{"id with NUL", stock.ValidateID("a\x00b"), false},
		{"id of invalid UTF-8", stock.ValidateID("\xff"), false},
		{"details", ok.Validate("EUR"), true},
		{"longest name", stock.Details{Name: strings.Repeat("é", stock.MaxNameLength), Currency: "EUR"}.Validate("EUR"), true},
		{"name too long", stock.Details{Name: strings.Repeat("x", stock.MaxNameLength+1), Currency: "EUR"}.Validate("EUR"), false},
		{"name of 1 MB", stock.Details{Name: strings.Repeat("x", 1<<20), Currency: "EUR"}.Validate("EUR"), false},
		{"name with NUL", stock.Details{Name: "a\x00b", Currency: "EUR"}.Validate("EUR"), false},
		{"restock", stock.ValidateRestock(10_000_000), true},
		{"restock too large", stock.ValidateRestock(stock.MaxRestock + 1), false},
		{"restock of nothing", stock.ValidateRestock(0), false},
	}
	for _, tt := range tests {
		if got := tt.err == nil; got != tt.valid {
			t.Errorf("%s: err %v, want valid %v", tt.name, tt.err, tt.valid)
		}
		if tt.err != nil && !errors.Is(tt.err, stock.ErrInvalid) {
			t.Errorf("%s: err %v, want stock.ErrInvalid", tt.name, tt.err)
		}
	}
}
