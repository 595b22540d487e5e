package contract

// Shop is the setting every service of the shop reads alike: the currency
// in which every price, order and account is kept (CURRENCY). A service's
// settings embed it, so that each reads and checks it the same way.
type Shop struct {
	Currency string `env:"CURRENCY" default:"EUR"`
}

// Validate reports a currency that is not an ISO code (CheckCurrency).
func (s *Shop) Validate() error { return CheckCurrency(s.Currency) }
