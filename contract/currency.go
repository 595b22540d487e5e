package contract

import (
	"fmt"
	"strings"
)

// CheckCurrency reports whether code can be the shop's currency, in which
// every price, order and account is kept (CURRENCY): a three-letter ISO
// 4217 code in capitals.
func CheckCurrency(code string) error {
	if len(code) != 3 || strings.ToUpper(code) != code || strings.ContainsAny(code, " \t") {
		return fmt.Errorf("CURRENCY=%q is not a three-letter ISO code", code)
	}
	return nil
}
