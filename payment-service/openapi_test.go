package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/purchase-saga/contract"
	"github.com/purchase-saga/messaging/openapitest"
	"github.com/purchase-saga/messaging/service"
	"github.com/purchase-saga/messaging/servicetest"

	"github.com/purchase-saga/payment-service/internal/api"
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
	admin     = map[string]string{"Authorization": "Bearer " + servicetest.AdminToken}
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
	huge := `{"currency":"` + strings.Repeat("x", 1<<20) + `"}`

	check("PUT", "/accounts/alice", admin, "", 201)
	check("PUT", "/accounts/alice", adminJSON, `{"currency":"EUR"}`, 200)
	check("PUT", "/accounts/bob", adminJSON, `{"currency":"EUR"}`, 201)
	check("PUT", "/accounts/carol", jsonType, `{"currency":"EUR"}`, 401)
	check("PUT", "/accounts/carol", adminJSON, `{"currency":`, 400)
	check("PUT", "/accounts/carol", adminText, `{"currency":"EUR"}`, 415)
	check("PUT", "/accounts/carol", adminJSON, huge, 413)
	check("PUT", "/accounts/carol", adminJSON, `{"currency":"USD"}`, 422)

	if got := check("POST", "/accounts/alice/deposits", adminJSON, `{"amount_cents":1000}`, 201).JSON["balance_cents"]; got != 1000.0 {
		t.Errorf("balance after a deposit of 1000: %v", got)
	}
	check("POST", "/accounts/alice/deposits", jsonType, `{"amount_cents":1000}`, 401)
	check("POST", "/accounts/nope/deposits", adminJSON, `{"amount_cents":1000}`, 404)
	check("POST", "/accounts/alice/deposits", adminJSON, `{"amount_cents":"lots"}`, 400)
	check("POST", "/accounts/alice/deposits", adminText, `{"amount_cents":1000}`, 415)
	check("POST", "/accounts/alice/deposits", adminJSON, huge, 413)
	check("POST", "/accounts/alice/deposits", adminJSON, `{"amount_cents":0}`, 422)

	check("GET", "/accounts/alice", nil, "", 200)
	check("GET", "/accounts/nope", nil, "", 404)

	doc.CheckKitRoutes(t, url)
	doc.CheckEveryOperation(t, url, "q=%00", http.StatusBadRequest)

	doc.CheckExercised(t, map[string]string{"GET /readyz 503": openapitest.NotReady})
}
