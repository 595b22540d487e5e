package saga

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/outbox"
	"github.com/purchase-saga/messaging/topic"
	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
	"github.com/purchase-saga/payment-service/paymentmsg"
	"github.com/purchase-saga/stock-service/stockmsg"
)

// LineRequest is one requested line.
type LineRequest struct {
	ItemID   string `json:"item_id"`
	Quantity int64  `json:"quantity"`
}

// PlaceRequest is the body of POST /orders.
type PlaceRequest struct {
	CustomerID string        `json:"customer_id"`
	Lines      []LineRequest `json:"lines"`
}

// hash identifies the request for the Idempotency-Key check.
func (r PlaceRequest) hash() string {
	b, _ := json.Marshal(r) // marshalling plain strings and ints cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (r PlaceRequest) validate() error {
	var problems []string
	if r.CustomerID == "" {
		problems = append(problems, "customer_id is required")
	}
	if len(r.Lines) == 0 {
		problems = append(problems, "lines must not be empty")
	}
	seen := map[string]bool{}
	for i, l := range r.Lines {
		switch {
		case l.ItemID == "":
			problems = append(problems, fmt.Sprintf("lines[%d].item_id is required", i))
		case seen[l.ItemID]:
			problems = append(problems, fmt.Sprintf("lines[%d]: item %q appears on more than one line", i, l.ItemID))
		}
		seen[l.ItemID] = true
		if l.Quantity < 1 {
			problems = append(problems, fmt.Sprintf("lines[%d].quantity must be at least 1", i))
		}
	}
	if len(problems) > 0 {
		return &order.ValidationError{Problems: problems}
	}
	return nil
}

// Place validates and prices a request against the catalog and, in one
// transaction, stores the order with the stock.reserve, payment.charge and
// order.placed messages. With an idempotency key, a repeated request
// returns the order it created first (created false); the same key with
// another request gives order.ErrIdempotencyKey.
func (s *Saga) Place(ctx context.Context, req PlaceRequest, idempotencyKey string) (o order.Order, created bool, err error) {
	if err := req.validate(); err != nil {
		return order.Order{}, false, err
	}
	if idempotencyKey != "" {
		if o, err := s.replay(ctx, req, idempotencyKey); !errors.Is(err, order.ErrNotFound) {
			return o, false, err
		}
	}
	o, err = s.price(ctx, req)
	if err != nil {
		return order.Order{}, false, err
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if err := postgres.InsertOrder(ctx, tx, o, idempotencyKey, req.hash()); err != nil {
			return err
		}
		records, err := firstMessages(o)
		if err != nil {
			return err
		}
		return outbox.Write(ctx, tx, records...)
	})
	if errors.Is(err, postgres.ErrDuplicateKey) {
		// Another request with this key won the race.
		o, err := s.replay(ctx, req, idempotencyKey)
		return o, false, err
	}
	if err != nil {
		return order.Order{}, false, err
	}
	placed.Inc()
	return o, true, nil
}

func (s *Saga) replay(ctx context.Context, req PlaceRequest, key string) (order.Order, error) {
	o, hash, err := postgres.ByIdempotencyKey(ctx, s.Pool, key)
	if err != nil {
		return order.Order{}, err
	}
	if hash != req.hash() {
		return order.Order{}, order.ErrIdempotencyKey
	}
	return o, nil
}

// price builds the order from the catalog read model.
func (s *Saga) price(ctx context.Context, req PlaceRequest) (order.Order, error) {
	ids := make([]string, len(req.Lines))
	for i, l := range req.Lines {
		ids[i] = l.ItemID
	}
	items, err := postgres.Items(ctx, s.Pool, ids)
	if err != nil {
		return order.Order{}, err
	}
	var problems []string
	lines := make([]order.Line, 0, len(req.Lines))
	for _, l := range req.Lines {
		it, ok := items[l.ItemID]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("unknown item %q", l.ItemID))
		case it.Currency != s.Currency:
			problems = append(problems, fmt.Sprintf("item %q is priced in %s, not %s", l.ItemID, it.Currency, s.Currency))
		}
		lines = append(lines, order.Line{ItemID: l.ItemID, Quantity: l.Quantity, UnitPriceCents: it.PriceCents})
	}
	if len(problems) > 0 {
		return order.Order{}, &order.ValidationError{Problems: problems}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return order.Order{}, fmt.Errorf("saga: order id: %w", err)
	}
	return order.New(id.String(), req.CustomerID, lines, s.Currency, s.now(), s.Timeout), nil
}

// firstMessages are the commands to both participants and order.placed.
func firstMessages(o order.Order) ([]outbox.Record, error) {
	stockLines := make([]stockmsg.Line, len(o.Lines))
	for i, l := range o.Lines {
		stockLines[i] = stockmsg.Line{ItemID: l.ItemID, Quantity: l.Quantity}
	}
	reserve, err := outbox.NewRecord(topic.Stock, stockmsg.TypeReserve, o.ID, stockmsg.Reserve{OrderID: o.ID, Lines: stockLines})
	if err != nil {
		return nil, err
	}
	charge, err := outbox.NewRecord(topic.Payment, paymentmsg.TypeCharge, o.ID, paymentmsg.Charge{
		OrderID: o.ID, CustomerID: o.CustomerID, AmountCents: o.AmountCents, Currency: o.Currency})
	if err != nil {
		return nil, err
	}
	event, err := lifecycle(o)
	if err != nil {
		return nil, err
	}
	return []outbox.Record{reserve, charge, event}, nil
}
