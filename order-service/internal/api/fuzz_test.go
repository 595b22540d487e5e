package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/purchase-saga/messaging/problem"
	"github.com/purchase-saga/order-service/internal/order"
)

// FuzzPlaceRequest checks POST /orders' decoding and validation, the part
// before the database: it never panics, every refusal is a 4xx problem,
// and an accepted request is within the bounds and survives a round trip.
func FuzzPlaceRequest(f *testing.F) {
	f.Add("application/json", []byte(`{"customer_id":"c1","lines":[{"item_id":"book","quantity":2}]}`))
	f.Add("application/json", []byte(`{"customer_id":"c\u0000","lines":[{"item_id":"book","quantity":1}]}`))
	f.Add("application/json", []byte(`{"customer_id":"c1","lines":[{"item_id":"book","quantity":7378697629483821}]}`))
	f.Add("application/json", []byte(`{"customer_id":"c1","lines":[{"item_id":"book","quantity":1},{"item_id":"book","quantity":1}]}`))
	f.Add("application/json", []byte(`{"customer_id":"c1","lines":[{"item_id":"book","quantity":"two"}]}`))
	f.Add("text/plain", []byte(`{}`))
	f.Add("", []byte(``))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		r := httptest.NewRequest("POST", "/orders", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		req, err := decodePlace(httptest.NewRecorder(), r)
		if err != nil {
			checkClientError(t, err)
			return
		}
		for _, l := range req.Lines {
			if !order.ValidID(l.ItemID) || l.Quantity < 1 || l.Quantity > order.MaxQuantity {
				t.Fatalf("accepted line %+v out of bounds", l)
			}
		}
		if !order.ValidID(req.CustomerID) || len(req.Lines) > order.MaxLines {
			t.Fatalf("accepted customer %q with %d lines", req.CustomerID, len(req.Lines))
		}
		again, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		r = httptest.NewRequest("POST", "/orders", bytes.NewReader(again))
		r.Header.Set("Content-Type", "application/json")
		back, err := decodePlace(httptest.NewRecorder(), r)
		if err != nil || !reflect.DeepEqual(back, req) {
			t.Fatalf("round trip of %s: %+v, %v; want %+v", again, back, err, req)
		}
	})
}

// checkClientError fails t unless err is answered as a 4xx problem.
func checkClientError(t *testing.T, err error) {
	t.Helper()
	p := known(context.Background(), err)
	if d := (*problem.Details)(nil); errors.As(err, &d) {
		p = d
	}
	if p == nil || p.Status < 400 || p.Status > 499 {
		t.Fatalf("error %v is answered %+v, not a 4xx problem", err, p)
	}
}
