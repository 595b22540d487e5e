package api

import "github.com/purchase-saga/stock-service/internal/stock"

// itemView is an item as the API shows it.
type itemView struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	PriceCents int64  `json:"price_cents"`
	Currency   string `json:"currency"`
	OnHand     int64  `json:"on_hand"`
	Reserved   int64  `json:"reserved"`
	Available  int64  `json:"available"`
}

func view(it stock.Item) itemView {
	return itemView{ID: it.ID, Name: it.Name, PriceCents: it.PriceCents, Currency: it.Currency,
		OnHand: it.OnHand, Reserved: it.Reserved, Available: it.Available()}
}
