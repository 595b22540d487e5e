package api

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/purchase-saga/messaging/problem"
	"github.com/purchase-saga/payment-service/internal/payment"
)

// FuzzAccountRequests checks the decoding and validation of PUT
// /accounts/{id} and of a deposit's body, the part before the database:
// neither panics, every refusal is a 4xx problem, and what is accepted is
// within the bounds.
func FuzzAccountRequests(f *testing.F) {
	f.Add("c1", "application/json", []byte(`{"currency":"EUR"}`))
	f.Add("c1", "", []byte(``))
	f.Add("c1", "", []byte(`{"currency":"EUR"}`))
	f.Add("c\x00", "application/json", []byte(`{"amount_cents":100}`))
	f.Add("c1", "application/json", []byte(`{"amount_cents":9223372036854775808}`))
	f.Add("c1", "application/json", []byte(`{"currency":"EUR\u0000"}`))
	f.Fuzz(func(t *testing.T, id, contentType string, body []byte) {
		r := httptest.NewRequest("PUT", "/accounts/x", bytes.NewReader(body))
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		currency, err := decodeAccount(httptest.NewRecorder(), r, id, "EUR")
		switch {
		case err != nil:
			checkClientError(t, err)
		case payment.ValidateID(id) != nil || currency != "EUR":
			t.Fatalf("accepted account %q in %q", id, currency)
		case len(bytes.TrimSpace(body)) > 0 && contentType == "":
			t.Fatalf("accepted a body without a content type")
		}
		r = httptest.NewRequest("POST", "/accounts/x/deposits", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		amount, err := decodeDeposit(httptest.NewRecorder(), r)
		switch {
		case err != nil:
			checkClientError(t, err)
		case amount < 1:
			t.Fatalf("accepted a deposit of %d cents", amount)
		}
	})
}

// checkClientError fails t unless err is answered as a 4xx problem.
func checkClientError(t *testing.T, err error) {
	t.Helper()
	var p *problem.Details
	switch {
	case errors.As(err, &p) && p.Status >= 400 && p.Status < 500:
	case errors.Is(err, payment.ErrInvalid): // 422, see fail
	default:
		t.Fatalf("error %v is not answered as a 4xx problem", err)
	}
}
