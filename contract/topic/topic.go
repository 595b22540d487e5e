// Package topic names the saga's Kafka topics (SPEC section 3) and says which
// of them are compacted.
package topic

// The saga's topics.
const (
	Stock               = "stock"
	StockSuccess        = "stock.success"
	StockDLT            = "stock.dlt"
	StockCompensation   = "stock.compensation"
	Payment             = "payment"
	PaymentSuccess      = "payment.success"
	PaymentDLT          = "payment.dlt"
	PaymentCompensation = "payment.compensation"
	Items               = "items"
	Orders              = "orders"
	OrderDLT            = "order.dlt"
)

// All lists every topic of the saga.
var All = []string{
	Stock, StockSuccess, StockDLT, StockCompensation,
	Payment, PaymentSuccess, PaymentDLT, PaymentCompensation,
	Items, Orders, OrderDLT,
}

// Compacted reports whether topic keeps only the latest record per key.
func Compacted(topic string) bool {
	return topic == Items
}
