package order

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Bounds of a request (SPEC section 5). Ids travel as Kafka keys, index
// keys and in every reply; a line's quantity times its price and the
// order's total must fit in int64 cents.
const (
	MaxIDLength = 128       // characters of a customer or item id
	MaxQuantity = 1_000_000 // units of one line
	MaxLines    = 1000      // lines of one order, to keep its messages small
)

// ValidID reports whether id can name a customer or an item: 1 to
// MaxIDLength characters of valid UTF-8 without NUL, which PostgreSQL text
// refuses.
func ValidID(id string) bool {
	n := utf8.RuneCountInString(id)
	return n >= 1 && n <= MaxIDLength && utf8.ValidString(id) && !strings.ContainsRune(id, 0)
}

// Total is the amount of lines: the sum of quantity times unit price. A
// product or sum beyond int64 cents is a *ValidationError naming the line,
// as is a negative quantity or price.
func Total(lines []Line) (int64, error) {
	var total int64
	for i, l := range lines {
		if l.Quantity < 0 || l.UnitPriceCents < 0 {
			return 0, &ValidationError{Problems: []string{fmt.Sprintf("lines[%d]: quantity and price must not be negative", i)}}
		}
		if l.UnitPriceCents != 0 && l.Quantity > math.MaxInt64/l.UnitPriceCents {
			return 0, &ValidationError{Problems: []string{fmt.Sprintf("lines[%d]: quantity × unit price overflows the amount", i)}}
		}
		amount := l.Quantity * l.UnitPriceCents
		if total > math.MaxInt64-amount {
			return 0, &ValidationError{Problems: []string{fmt.Sprintf("the order's total overflows the amount at lines[%d]", i)}}
		}
		total += amount
	}
	return total, nil
}
