package saga_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/dlt"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/order-service/internal/postgres"
	"github.com/purchase-saga/order-service/internal/saga"
)

// A dead-lettered command's error is cut to 200 bytes for the step's
// reason; cutting inside a character would make PostgreSQL refuse the
// reason and send the reply to order.dlt.
func TestTechnicalReasonIsCutBetweenCharacters(t *testing.T) {
	s, db := newSaga(t, time.Minute)
	ctx := context.Background()
	o, _, err := s.Place(ctx, saga.PlaceRequest{CustomerID: "c1", Lines: []saga.LineRequest{{ItemID: "book", Quantity: 1}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	m, err := envelope.New(stockmsg.TypeReserve, o.ID, stockmsg.Reserve{OrderID: o.ID})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	d := consumer.Delivery{Message: m, Topic: topic.StockDLT, Key: o.ID, Headers: map[string]string{
		dlt.HeaderReason: dlt.ReasonError, dlt.HeaderError: "x" + strings.Repeat("é", 300)}}
	if err := s.Handle(ctx, tx, d); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := postgres.NewStore(db.Pool).Orders().Get(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r := step(t, got, "stock").Reason; !utf8.ValidString(r) || !strings.HasPrefix(r, "error: x") || len(r) > len("error: ")+200 {
		t.Errorf("stock reason %q, want valid UTF-8 of at most 200 bytes after %q", r, "error: ")
	}
}
