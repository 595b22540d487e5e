package api

import (
	"fmt"
	"net/http"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/purchase-saga/messaging/httpjson"
	"github.com/purchase-saga/messaging/problem"
	"github.com/purchase-saga/order-service/internal/saga"
)

// MaxIdempotencyKey bounds the Idempotency-Key header, in bytes: it is
// stored and indexed with the order.
const MaxIdempotencyKey = 255

// decodePlace reads and validates POST /orders' body. Its errors are a
// *problem.Details (4xx) or an *order.ValidationError (422).
func decodePlace(w http.ResponseWriter, r *http.Request) (saga.PlaceRequest, error) {
	var req saga.PlaceRequest
	if err := httpjson.Decode(w, r, &req, false); err != nil {
		return saga.PlaceRequest{}, err
	}
	if err := req.Validate(); err != nil {
		return saga.PlaceRequest{}, err
	}
	return req, nil
}

// checkIdempotencyKey refuses, with 400, a key that is too long or holds
// anything but printable text. No key is fine.
func checkIdempotencyKey(key string) error {
	if len(key) > MaxIdempotencyKey || !utf8.ValidString(key) {
		return problem.New(http.StatusBadRequest, fmt.Sprintf("Idempotency-Key must be at most %d bytes of printable text", MaxIdempotencyKey))
	}
	for _, c := range key {
		if !unicode.IsPrint(c) {
			return problem.New(http.StatusBadRequest, fmt.Sprintf("Idempotency-Key must be at most %d bytes of printable text", MaxIdempotencyKey))
		}
	}
	return nil
}

// orderID returns the canonical form of an order id written as a UUID
// with dashes (36 characters); ok is false for anything else, including
// the other forms uuid.Parse accepts (urn:uuid:, braces, no dashes).
func orderID(s string) (id string, ok bool) {
	if len(s) != 36 {
		return "", false
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return "", false
	}
	return u.String(), true
}
