// Package bearer guards the admin calls of an API: a request without the
// configured bearer token is answered 401, as a problem.
package bearer

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/purchase-saga/messaging/problem"
)

// Require wraps h so that it answers 401 unless the request carries
// "Authorization: Bearer token". An empty token refuses every request.
func Require(token string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="admin"`)
			problem.Error(w, http.StatusUnauthorized, "admin token required: Authorization: Bearer $ADMIN_TOKEN")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Guard returns what wraps an API's admin handlers in Require with token.
func Guard(token string) func(http.HandlerFunc) http.Handler {
	return func(h http.HandlerFunc) http.Handler { return Require(token, h) }
}
