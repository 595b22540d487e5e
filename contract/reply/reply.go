// Package reply holds what every participant's answers share: the data of
// a refusal, sent on the step's rejections topic with dlt-reason
// "rejected" (see package contract). Each participant's package names it
// as its own Rejected, so that a new participant answers the same way.
package reply

// Rejected says an action was refused; nothing was done. Reason is one
// of the participant's reasons, or "cancelled" (its compensation came
// first) or "expired" (the saga's deadline had passed).
type Rejected struct {
	OrderID string `json:"order_id"`
	Reason  string `json:"reason"`
	Detail  string `json:"detail,omitempty"`
}
