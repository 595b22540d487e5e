package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/purchase-saga/contract"
	"github.com/purchase-saga/messaging/openapitest"
	"github.com/purchase-saga/messaging/service"
	"github.com/purchase-saga/messaging/servicetest"

	"github.com/purchase-saga/stock-service/internal/api"
)

// The OpenAPI document documents every route the service serves (the
// kit's and the API's) and no other.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	api := api.New(nil, "EUR", "", nil)
	openapitest.Load(t, spec.OpenAPI).CheckServiceRoutes(t, api.Routes())
}

// Headers of the requests.
var (
	jsonType  = openapitest.JSON
	adminJSON = openapitest.Admin(servicetest.AdminToken, "application/json")
	adminText = openapitest.Admin(servicetest.AdminToken, "text/plain")
)

// Each documented operation of the running service, with each of its
// responses, answers as the OpenAPI document says.
func TestAnswersMatchTheOpenAPIDocument(t *testing.T) {
	url, _ := servicetest.Start(t, spec, settings{contract.Shop{Currency: "EUR"}, service.Admin{AdminToken: servicetest.AdminToken}})
	doc := openapitest.Load(t, spec.OpenAPI)
	check := func(method, path string, header map[string]string, body string, status int) openapitest.Answer {
		t.Helper()
		return doc.Check(t, url, openapitest.Case{Method: method, Path: path, Header: header, Body: body, Status: status})
	}
	item := func(name, currency string) string {
		return `{"name":"` + name + `","price_cents":1250,"currency":"` + currency + `"}`
	}
	huge := item(strings.Repeat("x", 1<<20), "EUR")

	check("PUT", "/items/book", adminJSON, item("Book", "EUR"), 201)
	check("PUT", "/items/book", adminJSON, item("Book, 2nd edition", "EUR"), 200)
	check("PUT", "/items/a-pen", adminJSON, item("Pen", "EUR"), 201)
	check("PUT", "/items/book", jsonType, item("Book", "EUR"), 401)
	check("PUT", "/items/book", adminJSON, `{"name":`, 400)
	check("PUT", "/items/book", adminText, item("Book", "EUR"), 415)
	check("PUT", "/items/book", adminJSON, huge, 413)
	check("PUT", "/items/book", adminJSON, item(" ", "USD"), 422)

	check("POST", "/items/book/restock", adminJSON, `{"quantity":7}`, 200)
	check("POST", "/items/book/restock", jsonType, `{"quantity":7}`, 401)
	check("POST", "/items/nope/restock", adminJSON, `{"quantity":7}`, 404)
	check("POST", "/items/book/restock", adminJSON, `{"quantity":"many"}`, 400)
	check("POST", "/items/book/restock", adminText, `{"quantity":7}`, 415)
	check("POST", "/items/book/restock", adminJSON, huge, 413)
	check("POST", "/items/book/restock", adminJSON, `{"quantity":0}`, 422)

	if got := check("GET", "/items/book", nil, "", 200).JSON["available"]; got != 7.0 {
		t.Errorf("available %v, want 7", got)
	}
	check("GET", "/items/nope", nil, "", 404)
	page := check("GET", "/items?limit=1", nil, "", 200)
	next, _ := page.JSON["next"].(string)
	if next != "a-pen" {
		t.Fatalf("first page of one: next %q, want a-pen", next)
	}
	if last := check("GET", "/items?limit=1&after="+next, nil, "", 200); last.JSON["next"] != nil {
		t.Errorf("last page: next %v, want none", last.JSON["next"])
	}
	check("GET", "/items?limit=0", nil, "", 400)

	doc.CheckKitRoutes(t, url)
	doc.CheckEveryOperation(t, url, "q=%00", http.StatusBadRequest)

	doc.CheckExercised(t, map[string]string{"GET /readyz 503": openapitest.NotReady})
}
