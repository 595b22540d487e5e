package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/purchase-saga/contract"
	"github.com/purchase-saga/messaging/openapitest"
	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/messaging/testbroker"

	"github.com/purchase-saga/order-service/internal/api"
	"github.com/purchase-saga/order-service/internal/postgres"
)

// The OpenAPI document documents every route the service serves (the
// kit's and the API's) and no other.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	openapitest.Load(t, spec.OpenAPI).CheckServiceRoutes(t, (&api.API{}).Routes())
}

var jsonType = openapitest.JSON

// Each documented operation of the running service, with each of its
// responses, answers as the OpenAPI document says. No stock or payment
// service runs: the orders stay PENDING, which is what the refusals
// that count orders in flight need.
func TestAnswersMatchTheOpenAPIDocument(t *testing.T) {
	svc := servicetest.StartOn(t, testbroker.New(t, 2), spec, settings{Shop: contract.Shop{Currency: "EUR"},
		SagaTimeout: time.Hour, SweepEvery: "@every 1s"})
	err := postgres.NewStore(svc.Pool).Catalog().Upsert(context.Background(),
		postgres.Item{ID: "book", Name: "Book", PriceCents: 500, Currency: "EUR", Available: 100},
		postgres.Item{ID: "last", Name: "The last one", PriceCents: 100, Currency: "EUR", Available: 1},
		postgres.Item{ID: "gone", Name: "Sold out", PriceCents: 100, Currency: "EUR", Available: 0})
	if err != nil {
		t.Fatal(err)
	}
	doc := openapitest.Load(t, spec.OpenAPI)
	check := func(method, path string, header map[string]string, body string, status int) openapitest.Answer {
		t.Helper()
		return doc.Check(t, svc.URL, openapitest.Case{Method: method, Path: path, Header: header, Body: body, Status: status})
	}
	withKey := func(key string) map[string]string {
		return map[string]string{"Content-Type": "application/json", "Idempotency-Key": key}
	}
	order := func(customer, item string) string {
		return `{"customer_id":"` + customer + `","lines":[{"item_id":"` + item + `","quantity":1}]}`
	}

	// The gate reads the catalog every 50ms: once it refuses the sold-out
	// item it knows the catalog.
	eventually(t, svc.URL, order("c9", "gone"), http.StatusConflict)
	placed := check("POST", "/orders?wait=10ms", withKey("k1"), order("c1", "book"), 201)
	id, _ := placed.JSON["id"].(string)
	check("POST", "/orders", withKey("k1"), order("c1", "book"), 200)
	check("POST", "/orders", withKey("k1"), order("c2", "book"), 409)
	check("POST", "/orders", jsonType, order("c1", "gone"), 409)
	check("POST", "/orders", jsonType, order("c1", "lamp"), 422)
	check("POST", "/orders", jsonType, `{"customer_id":"c1","lines":[{"item_id":"book","quantity":"two"}]}`, 400)
	check("POST", "/orders?wait=soon", jsonType, order("c1", "book"), 400)
	check("POST", "/orders", withKey(strings.Repeat("k", 256)), order("c1", "book"), 400)
	check("POST", "/orders", map[string]string{"Content-Type": "text/plain"}, order("c1", "book"), 415)
	check("POST", "/orders", jsonType, `{"customer_id":"`+strings.Repeat("x", 1<<20)+`"}`, 413)
	check("POST", "/orders", jsonType, order("c2", "book"), 201)
	check("POST", "/orders", jsonType, order("c2", "book"), 201)
	check("POST", "/orders", jsonType, order("c3", "last"), 201)
	// The last unit is spoken for by the order still in flight.
	eventually(t, svc.URL, order("c4", "last"), http.StatusTooManyRequests)
	check("POST", "/orders", jsonType, order("c4", "last"), 429)

	check("GET", "/orders/"+id, nil, "", 200)
	check("GET", "/orders/"+id+"?wait=10ms", nil, "", 200)
	check("GET", "/orders/"+id+"?wait=soon", nil, "", 400)
	check("GET", "/orders/01900000-0000-7000-8000-000000000000", nil, "", 404)
	check("GET", "/orders/not-a-uuid", nil, "", 404)
	page := check("GET", "/orders?customer_id=c2&status=PENDING&limit=1", nil, "", 200)
	next, _ := page.JSON["next"].(string)
	if next == "" {
		t.Fatalf("first page of one of c2's two orders has no next: %s", page.Body)
	}
	if last := check("GET", "/orders?customer_id=c2&status=PENDING&limit=1&after="+next, nil, "", 200); last.JSON["next"] != nil {
		t.Errorf("last page: next %v, want none", last.JSON["next"])
	}
	check("GET", "/orders", nil, "", 200)
	check("GET", "/orders?status=DONE", nil, "", 400)
	check("GET", "/catalog/book", nil, "", 200)
	check("GET", "/catalog/lamp", nil, "", 404)

	doc.CheckKitRoutes(t, svc.URL)
	doc.CheckEveryOperation(t, svc.URL, "q=%00", http.StatusBadRequest)

	doc.CheckExercised(t, map[string]string{"GET /readyz 503": openapitest.NotReady})
}

// eventually posts body to /orders until it is answered status, failing
// t after 5 seconds.
func eventually(t *testing.T, url, body string, status int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		r := servicetest.Do(t, http.MethodPost, url+"/orders", body, "", "application/json")
		if r.Status == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("POST /orders %s: %d %s, want %d within 5s", body, r.Status, r.Raw, status)
		}
	}
}
