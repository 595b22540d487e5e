package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/migrations"

	"github.com/purchase-saga/payment-service/internal/api"
)

const (
	token    = "s3cret"
	jsonType = "application/json"
)

var migrate = migrations.For(migrations.Payment)

// newServer serves the API over a fresh database.
func newServer(t *testing.T) *servicetest.Server {
	t.Helper()
	return servicetest.NewServer(t, migrate, func(pool *pgxpool.Pool) http.Handler {
		return api.New(pool, "EUR", token, nil).Handler()
	})
}

const admin = "Bearer " + token

func TestWritesNeedTheAdminToken(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.Do(t, "PUT", "/accounts/c1", "", admin, "")
	tests := []struct{ method, path, body, auth string }{
		{"PUT", "/accounts/c2", "", ""},
		{"PUT", "/accounts/c2", "", "Bearer nope"},
		{"POST", "/accounts/c1/deposits", `{"amount_cents":100}`, ""},
		{"POST", "/accounts/c1/deposits", `{"amount_cents":100}`, "Bearer nope"},
		{"POST", "/accounts/c1/deposits", `{"amount_cents":100}`, token},
	}
	for _, tt := range tests {
		if r := s.Do(t, tt.method, tt.path, tt.body, tt.auth, jsonType); r.Status != http.StatusUnauthorized {
			t.Errorf("%s %s with Authorization %q: status %d, want 401", tt.method, tt.path, tt.auth, r.Status)
		}
	}
	if r := s.Do(t, "GET", "/accounts/c1", "", "", ""); r.Body["balance_cents"] != 0.0 {
		t.Errorf("balance after unauthorised deposits: %s, want 0", r.Raw)
	}
	if r := s.Do(t, "GET", "/accounts/c2", "", "", ""); r.Status != http.StatusNotFound {
		t.Errorf("account created without the token: GET status %d, want 404", r.Status)
	}
}

func TestAccountLifecycle(t *testing.T) {
	t.Parallel()
	s := newServer(t)

	r := s.Do(t, "PUT", "/accounts/c1", "", admin, "")
	if r.Status != http.StatusCreated || r.Body["currency"] != "EUR" {
		t.Fatalf("create without body: status %d %s, want 201 in EUR", r.Status, r.Raw)
	}
	r = s.Do(t, "PUT", "/accounts/c1", `{"currency":"EUR"}`, admin, jsonType)
	if r.Status != http.StatusOK {
		t.Fatalf("create again: status %d %s, want 200", r.Status, r.Raw)
	}
	if r = s.Do(t, "PUT", "/accounts/c2", `{"currency":"EUR"}`, admin, jsonType); r.Status != http.StatusCreated {
		t.Fatalf("create with body: status %d %s, want 201", r.Status, r.Raw)
	}
	for _, cents := range []string{"2500", "500"} {
		r = s.Do(t, "POST", "/accounts/c1/deposits", `{"amount_cents":`+cents+`}`, admin, jsonType)
		if r.Status != http.StatusCreated {
			t.Fatalf("deposit %s: status %d %s, want 201", cents, r.Status, r.Raw)
		}
	}
	if r.Body["balance_cents"] != 3000.0 || r.Body["deposit_id"] == nil {
		t.Errorf("deposit answer %s, want balance 3000 and a deposit id", r.Raw)
	}

	r = s.Do(t, "GET", "/accounts/c1", "", "", "")
	want := map[string]any{"id": "c1", "balance_cents": 3000.0, "currency": "EUR"}
	if r.Status != http.StatusOK || len(r.Body) != len(want) {
		t.Fatalf("get: status %d %s", r.Status, r.Raw)
	}
	for k, v := range want {
		if r.Body[k] != v {
			t.Errorf("get: %s = %v, want %v", k, r.Body[k], v)
		}
	}
	var deposits, sum int64
	err := s.DB.Pool.QueryRow(context.Background(),
		`SELECT count(*), sum(amount_cents) FROM deposits WHERE account_id = 'c1'`).Scan(&deposits, &sum)
	if err != nil || deposits != 2 || sum != 3000 {
		t.Errorf("deposits rows: %d summing %d (%v), want 2 summing 3000", deposits, sum, err)
	}
}

func TestErrorsAreProblems(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.Do(t, "PUT", "/accounts/c1", "", admin, "")
	s.Do(t, "PUT", "/accounts/full", "", admin, "")
	if r := s.Do(t, "POST", "/accounts/full/deposits", `{"amount_cents":9223372036854775807}`, admin, jsonType); r.Status != 201 {
		t.Fatalf("deposit of the largest amount: status %d %s", r.Status, r.Raw)
	}
	tests := []struct {
		name, method, path, body, contentType string
		status                                int
	}{
		{"other currency", "PUT", "/accounts/c2", `{"currency":"USD"}`, jsonType, 422},
		{"id too long", "PUT", "/accounts/" + strings.Repeat("x", 201), "", "", 422},
		{"zero deposit", "POST", "/accounts/c1/deposits", `{"amount_cents":0}`, jsonType, 422},
		{"deposit past the largest balance", "POST", "/accounts/full/deposits", `{"amount_cents":1}`, jsonType, 422},
		{"deposit to unknown account", "POST", "/accounts/nope/deposits", `{"amount_cents":1}`, jsonType, 404},
		{"get unknown account", "GET", "/accounts/nope", "", "", 404},
		{"malformed JSON", "PUT", "/accounts/c2", `{"currency":`, jsonType, 400},
		{"wrong field type", "POST", "/accounts/c1/deposits", `{"amount_cents":"lots"}`, jsonType, 400},
		{"empty deposit body", "POST", "/accounts/c1/deposits", ``, jsonType, 400},
		{"wrong content type", "PUT", "/accounts/c2", `{"currency":"EUR"}`, "text/plain", 415},
		{"body over 1 MiB", "POST", "/accounts/c1/deposits", `{"amount_cents":1` + strings.Repeat(" ", 1<<20) + `}`, jsonType, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			servicetest.CheckProblem(t, s.Do(t, tt.method, tt.path, tt.body, admin, tt.contentType), tt.status)
		})
	}
	if r := s.Do(t, "GET", "/accounts/c2", "", "", ""); r.Status != http.StatusNotFound {
		t.Errorf("a refused PUT created account c2: GET status %d, want 404", r.Status)
	}
}
