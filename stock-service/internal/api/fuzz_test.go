package api

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/purchase-saga/messaging/problem"
	"github.com/purchase-saga/stock-service/internal/stock"
)

// FuzzPutItem checks PUT /items/{id}'s decoding and validation, the part
// before the database: it never panics, every refusal is a 4xx problem,
// and an accepted item is within the bounds.
func FuzzPutItem(f *testing.F) {
	f.Add("book-1", "application/json", []byte(`{"name":"Book","price_cents":1250,"currency":"EUR"}`))
	f.Add("b\x00", "application/json", []byte(`{"name":"Book","price_cents":1,"currency":"EUR"}`))
	f.Add("b", "application/json", []byte(`{"name":"B\u0000","price_cents":1,"currency":"EUR"}`))
	f.Add("b", "application/json", []byte(`{"name":"B","price_cents":1e30,"currency":"EUR"}`))
	f.Add("b", "application/json", []byte(`{"name":"B","currency":"EUR"}`))
	f.Add("b", "text/plain", []byte(`{}`))
	f.Fuzz(func(t *testing.T, id, contentType string, body []byte) {
		r := httptest.NewRequest("PUT", "/items/x", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		d, err := decodeItem(httptest.NewRecorder(), r, id, "EUR")
		if err != nil {
			var p *problem.Details
			switch {
			case errors.As(err, &p) && p.Status >= 400 && p.Status < 500:
			case errors.Is(err, stock.ErrInvalid) && answered(r, err) == http.StatusUnprocessableEntity:
			default:
				t.Fatalf("error %v is not answered as a 4xx problem", err)
			}
			return
		}
		if stock.ValidateID(id) != nil || d.Validate("EUR") != nil || d.PriceCents < 0 {
			t.Fatalf("accepted item %q %+v out of bounds", id, d)
		}
	})
}

// answered is the status the API answers err with.
func answered(r *http.Request, err error) int {
	w := httptest.NewRecorder()
	New(nil, "EUR", "", nil).edge.Fail(w, r, err)
	return w.Code
}
