package saga_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
	"github.com/purchase-saga/order-service/internal/saga"
)

// The gate learns the catalog from the database and refuses from memory
// what it cannot serve; it follows later changes.
func TestGateFollowsTheCatalog(t *testing.T) {
	s, db := newSaga(t, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := &saga.Gate{Catalog: postgres.NewStore(db.Pool), Interval: 5 * time.Millisecond}
	go func() { _ = g.Run(ctx) }()
	pen := []saga.LineRequest{{ItemID: "pen", Quantity: 3}}
	waitGate := func(want int) []order.Shortage {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			short := g.Short(pen)
			if len(short) == want {
				return short
			}
			if time.Now().After(deadline) {
				t.Fatalf("gate shortages %+v, want %d", short, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitGate(0) // 10 pens
	if err := postgres.NewStore(db.Pool).Catalog().Upsert(ctx, postgres.Item{ID: "pen", Name: "Pen", PriceCents: 100, Currency: "EUR", Available: 2}); err != nil {
		t.Fatal(err)
	}
	if short := waitGate(1); short[0] != (order.Shortage{ItemID: "pen", Requested: 3, Available: 2}) {
		t.Errorf("shortage %+v", short[0])
	}
	s.Gate = g
	if _, _, err := s.Place(ctx, saga.PlaceRequest{CustomerID: "c", Lines: pen}, ""); err == nil {
		t.Error("Place through a gate that knows the pens are short succeeded")
	}
	if got := g.Short([]saga.LineRequest{{ItemID: "unknown", Quantity: 1}}); got != nil {
		t.Errorf("gate refused an item it does not know: %+v", got)
	}
	if items, ok := g.Items([]string{"pen", "book"}); !ok || items["pen"].PriceCents != 100 || items["book"].PriceCents != 500 {
		t.Errorf("Items(pen, book) = %+v, %v; want both, priced", items, ok)
	}
	if _, ok := g.Items([]string{"pen", "unknown"}); ok {
		t.Error("Items claims to know an item it has never read")
	}
}

// Units that orders in flight have asked for, and stock-service has not
// answered yet, are spoken for: an order that needs them is told to try
// again, not started only to fail out of stock.
func TestGateCountsUnitsSpokenForByOrdersInFlight(t *testing.T) {
	s, db := newSaga(t, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := postgres.NewStore(db.Pool).Catalog().Upsert(ctx, postgres.Item{ID: "pen", Name: "Pen", PriceCents: 100, Currency: "EUR", Available: 3}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Place(ctx, saga.PlaceRequest{CustomerID: "c1", Lines: []saga.LineRequest{{ItemID: "pen", Quantity: 2}}}, ""); err != nil {
		t.Fatal(err)
	}
	g := &saga.Gate{Catalog: postgres.NewStore(db.Pool), Interval: 5 * time.Millisecond}
	go func() { _ = g.Run(ctx) }()
	two := []saga.LineRequest{{ItemID: "pen", Quantity: 2}}
	deadline := time.Now().Add(5 * time.Second)
	for !g.Uncertain(two) {
		if time.Now().After(deadline) {
			t.Fatal("2 pens asked while 2 of the 3 are spoken for: the gate never said so")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if g.Uncertain([]saga.LineRequest{{ItemID: "pen", Quantity: 1}}) {
		t.Error("1 pen of the 1 not spoken for: the gate says try again")
	}
	if short := g.Short(two); short != nil {
		t.Errorf("the catalog shows 3 pens: the gate says sold out %+v", short)
	}
	s.Gate = g
	_, _, err := s.Place(ctx, saga.PlaceRequest{CustomerID: "c2", Lines: two}, "")
	var overload *order.OverloadError
	if !errors.As(err, &overload) {
		t.Errorf("Place of 2 spoken-for pens: %v, want an OverloadError (try again)", err)
	}
}
