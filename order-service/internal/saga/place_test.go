package saga_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
	"github.com/purchase-saga/order-service/internal/saga"
)

func TestPlaceRefusesOutOfRangeRequests(t *testing.T) {
	s, db := newSaga(t, time.Minute)
	ctx := context.Background()
	if err := postgres.NewStore(db.Pool).Catalog().Upsert(ctx, postgres.Item{ID: "gold", Name: "Gold", PriceCents: math.MaxInt64 / 2, Currency: "EUR", Available: 10}); err != nil {
		t.Fatal(err)
	}
	line := func(id string, q int64) []saga.LineRequest { return []saga.LineRequest{{ItemID: id, Quantity: q}} }
	many := make([]saga.LineRequest, order.MaxLines+1)
	for i := range many {
		many[i] = saga.LineRequest{ItemID: strings.Repeat("i", i%order.MaxIDLength+1) + string(rune('a'+i/order.MaxIDLength)), Quantity: 1}
	}
	tests := []struct {
		name string
		req  saga.PlaceRequest
	}{
		{"customer id of 3 KB", saga.PlaceRequest{CustomerID: strings.Repeat("c", 3000), Lines: line("book", 1)}},
		{"customer id of 230 KB", saga.PlaceRequest{CustomerID: strings.Repeat("c", 230_000), Lines: line("book", 1)}},
		{"customer id of 129 characters", saga.PlaceRequest{CustomerID: strings.Repeat("c", order.MaxIDLength+1), Lines: line("book", 1)}},
		{"NUL in customer id", saga.PlaceRequest{CustomerID: "c\x001", Lines: line("book", 1)}},
		{"item id of 129 characters", saga.PlaceRequest{CustomerID: "c1", Lines: line(strings.Repeat("b", order.MaxIDLength+1), 1)}},
		{"quantity over the cap", saga.PlaceRequest{CustomerID: "c1", Lines: line("book", order.MaxQuantity+1)}},
		{"quantity that wraps the price", saga.PlaceRequest{CustomerID: "c1", Lines: line("book", 7_378_697_629_483_821)}},
		{"quantity × price overflows", saga.PlaceRequest{CustomerID: "c1", Lines: line("gold", 3)}},
		{"total overflows", saga.PlaceRequest{CustomerID: "c1", Lines: []saga.LineRequest{{ItemID: "gold", Quantity: 2}, {ItemID: "book", Quantity: 1}}}},
		{"too many lines", saga.PlaceRequest{CustomerID: "c1", Lines: many}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := s.Place(ctx, tt.req, ""); !errors.Is(err, order.ErrInvalid) {
				t.Errorf("Place = %v, want ErrInvalid", err)
			}
		})
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM orders`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d orders after refused requests (err %v), want 0", n, err)
	}
	// The largest accepted values still place, given the stock.
	if err := postgres.NewStore(db.Pool).Catalog().Upsert(ctx, postgres.Item{ID: "book", Name: "Book", PriceCents: 500, Currency: "EUR",
		Available: order.MaxQuantity}); err != nil {
		t.Fatal(err)
	}
	req := saga.PlaceRequest{CustomerID: strings.Repeat("é", order.MaxIDLength), Lines: line("book", order.MaxQuantity)}
	o, _, err := s.Place(ctx, req, "")
	if err != nil {
		t.Fatalf("Place at the bounds: %v", err)
	}
	if got, want := o.AmountCents, int64(500*order.MaxQuantity); got != want {
		t.Errorf("amount %d, want %d", got, want)
	}
}

func TestValidateQuotesNoLongID(t *testing.T) {
	long := strings.Repeat("x", 10_000)
	err := saga.PlaceRequest{CustomerID: long, Lines: []saga.LineRequest{{ItemID: long, Quantity: 1}, {ItemID: long, Quantity: 1}}}.Validate()
	if err == nil || strings.Contains(err.Error(), strings.Repeat("x", order.MaxIDLength+1)) {
		t.Errorf("Validate = %.300v…, want problems that do not quote the id", err)
	}
}

// The commands carry the saga's deadline, so that a participant that
// gets one too late refuses it rather than act for a saga given up.
func TestCommandsCarryTheSagasDeadline(t *testing.T) {
	s, db := newSaga(t, 30*time.Second)
	ctx := context.Background()
	o, _, err := s.Place(ctx, saga.PlaceRequest{CustomerID: "c1", Lines: []saga.LineRequest{{ItemID: "pen", Quantity: 1}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	want := o.CreatedAt.Add(30 * time.Second)
	rows, err := db.Pool.Query(ctx, `SELECT value FROM outbox WHERE headers->>'type' IN ('stock.reserve', 'payment.charge')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var value []byte
		if err := rows.Scan(&value); err != nil {
			t.Fatal(err)
		}
		m, err := envelope.Decode(value)
		if err != nil {
			t.Fatal(err)
		}
		var data struct{ Deadline time.Time }
		if err := m.DecodeData(&data); err != nil {
			t.Fatal(err)
		}
		if !data.Deadline.Equal(want) {
			t.Errorf("%s deadline %v, want %v", m.Type, data.Deadline, want)
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d commands, want 2", n)
	}
}
