package saga

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/purchase-saga/messaging/outbox"
	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
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

// Validate lists every problem with r as a *order.ValidationError: ids
// of 1 to order.MaxIDLength characters, 1 to order.MaxLines lines of
// distinct items, quantities from 1 to order.MaxQuantity. A problem
// quotes an id only once it is known to be short.
func (r PlaceRequest) Validate() error {
	var problems []string
	if !order.ValidID(r.CustomerID) {
		problems = append(problems, fmt.Sprintf("customer_id must be 1 to %d characters of UTF-8 text without NUL", order.MaxIDLength))
	}
	switch {
	case len(r.Lines) == 0:
		problems = append(problems, "lines must not be empty")
	case len(r.Lines) > order.MaxLines:
		problems = append(problems, fmt.Sprintf("an order has at most %d lines, not %d", order.MaxLines, len(r.Lines)))
	}
	seen := map[string]bool{}
	for i, l := range r.Lines {
		problems = append(problems, l.problems(i, seen)...)
	}
	if len(problems) > 0 {
		return &order.ValidationError{Problems: problems}
	}
	return nil
}

// problems lists what is wrong with line i; seen holds the items of the
// lines before it.
func (l LineRequest) problems(i int, seen map[string]bool) []string {
	var problems []string
	switch {
	case !order.ValidID(l.ItemID):
		problems = append(problems, fmt.Sprintf("lines[%d].item_id must be 1 to %d characters of UTF-8 text without NUL", i, order.MaxIDLength))
	case seen[l.ItemID]:
		problems = append(problems, fmt.Sprintf("lines[%d]: item %q appears on more than one line", i, l.ItemID))
	}
	seen[l.ItemID] = true
	if l.Quantity < 1 || l.Quantity > order.MaxQuantity {
		problems = append(problems, fmt.Sprintf("lines[%d].quantity must be from 1 to %d", i, order.MaxQuantity))
	}
	return problems
}

// Place validates and prices a request against the catalog and, in one
// transaction, stores the order with the command of each step
// (stock.reserve, payment.charge) and order.placed. With an idempotency key, a repeated request
// returns the order it created first (created false); the same key with
// another request gives order.ErrIdempotencyKey.
func (s *Saga) Place(ctx context.Context, req PlaceRequest, idempotencyKey string) (o order.Order, created bool, err error) {
	if err := req.Validate(); err != nil {
		return order.Order{}, false, err
	}
	if idempotencyKey != "" {
		if o, err := s.replay(ctx, req, idempotencyKey); !errors.Is(err, order.ErrNotFound) {
			return o, false, err
		}
	}
	if short := s.Gate.Short(req.Lines); len(short) > 0 {
		soldOut.Inc()
		return order.Order{}, false, &order.SoldOutError{Items: short}
	}
	if s.Gate.Uncertain(req.Lines) {
		// The last units are spoken for by orders still in flight: one
		// more order would most likely fail out of stock. Try again once
		// they end (they release what they do not buy).
		spokenFor.Inc()
		return order.Order{}, false, &order.OverloadError{RetryAfter: time.Second}
	}
	if s.Admission != nil {
		if retryAfter, err := s.Admission.Admit(); err != nil {
			return order.Order{}, false, &order.OverloadError{RetryAfter: retryAfter}
		}
	}
	o, err = s.price(ctx, req)
	if err != nil {
		return order.Order{}, false, err
	}
	err = s.commitOrder(ctx, o, idempotencyKey, req.hash())
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
	l := &keyLookup{key: key}
	if err := s.lookups.do(ctx, s.lookUp, l); err != nil {
		return order.Order{}, err
	}
	if l.hash != req.hash() {
		return order.Order{}, order.ErrIdempotencyKey
	}
	return l.order, nil
}

// keyLookup is one request's idempotency key and, once its group is done,
// the order placed with it and its request's hash, or order.ErrNotFound.
// Under load every request with a key would otherwise cost its own query
// before it is even refused.
type keyLookup struct {
	key   string
	order order.Order
	hash  string
	err   error
}

func (l *keyLookup) fail(err error) { l.err = err }
func (l *keyLookup) outcome() error { return l.err }

// lookUp looks the keys of ls up in one statement.
func (s *Saga) lookUp(ctx context.Context, ls []*keyLookup) error {
	keys := make([]string, len(ls))
	for i, l := range ls {
		keys[i] = l.key
	}
	found, err := s.Store.Orders().ByIdempotencyKeys(ctx, keys)
	if err != nil {
		return err
	}
	for _, l := range ls {
		l.err = order.ErrNotFound
		if p, ok := found[l.key]; ok {
			l.order, l.hash, l.err = p.Order, p.RequestHash, nil
		}
	}
	return nil
}

// price builds the order from the catalog read model.
func (s *Saga) price(ctx context.Context, req PlaceRequest) (order.Order, error) {
	ids := make([]string, len(req.Lines))
	for i, l := range req.Lines {
		ids[i] = l.ItemID
	}
	items, known := s.Gate.Items(ids)
	if !known {
		var err error
		if items, err = s.Store.Catalog().Items(ctx, ids); err != nil {
			return order.Order{}, err
		}
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
	if short := shortages(req.Lines, items); len(short) > 0 {
		soldOut.Inc()
		return order.Order{}, &order.SoldOutError{Items: short}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return order.Order{}, fmt.Errorf("saga: order id: %w", err)
	}
	return order.New(id.String(), req.CustomerID, lines, s.Currency, s.steps().Names(), s.now(), s.Timeout)
}

// shortages are the lines the catalog shows less available stock for than
// they ask: the sold-out gate (SPEC section 12) answers those at once
// rather than start a saga bound to fail.
func shortages(lines []LineRequest, items map[string]postgres.Item) []order.Shortage {
	var short []order.Shortage
	for _, l := range lines {
		if it := items[l.ItemID]; it.Available < l.Quantity {
			short = append(short, order.Shortage{ItemID: l.ItemID, Requested: l.Quantity, Available: it.Available})
		}
	}
	return short
}

// firstMessages are the command of every step and order.placed.
func (s *Saga) firstMessages(o order.Order) ([]outbox.Record, error) {
	records, err := s.steps().commands(o)
	if err != nil {
		return nil, err
	}
	event, err := lifecycle(o)
	if err != nil {
		return nil, err
	}
	return append(records, event), nil
}
