// Package problem writes RFC 9457 problem details and reads JSON request
// bodies with the errors SPEC section 5 asks for: 413 over 1 MiB, 415 for a
// content type other than JSON, 400 naming what is malformed.
package problem

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/purchase-saga/messaging/envelope"
)

// MaxBody is the largest request body accepted.
const MaxBody = 1 << 20

// Details is an RFC 9457 problem.
type Details struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Errors lists field-level problems, when there are several.
	Errors []string `json:"errors,omitempty"`
}

// Error makes a *Details usable as an error.
func (d *Details) Error() string { return fmt.Sprintf("%d %s: %s", d.Status, d.Title, d.Detail) }

// New returns a problem with the standard title of status.
func New(status int, detail string) *Details {
	return &Details{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail}
}

// Bounds of what a problem repeats back: a detail or an error quotes the
// client's input, and a long list of errors must not make a long answer.
const (
	MaxDetail = 1000 // bytes of Detail
	MaxErrors = 20   // entries of Errors, the last saying how many more
	MaxError  = 500  // bytes of each entry of Errors
)

// Write sends p as application/problem+json, bounded (see MaxDetail).
func Write(w http.ResponseWriter, p *Details) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p.bounded())
}

// bounded returns a copy of p whose detail and errors fit the bounds.
func (p *Details) bounded() *Details {
	b := *p
	b.Detail = envelope.Truncate(p.Detail, MaxDetail)
	if len(p.Errors) == 0 {
		return &b
	}
	n := min(len(p.Errors), MaxErrors)
	b.Errors = make([]string, n, n+1)
	for i := range n {
		b.Errors[i] = envelope.Truncate(p.Errors[i], MaxError)
	}
	if more := len(p.Errors) - n; more > 0 {
		b.Errors = append(b.Errors, fmt.Sprintf("and %d more", more))
	}
	return &b
}

// Error writes status with detail.
func Error(w http.ResponseWriter, status int, detail string) {
	Write(w, New(status, detail))
}

// WriteErr writes err: a *Details as it is, anything else as a 500 whose
// detail does not leak internals.
func WriteErr(w http.ResponseWriter, err error) {
	var p *Details
	if errors.As(err, &p) {
		Write(w, p)
		return
	}
	Error(w, http.StatusInternalServerError, "internal error")
}

// Fail writes err as a problem: a *Details stands as it is, an error that
// known maps to a problem (the domain's sentinels) is that problem, and
// anything else is logged here, once, at the edge, and answered 500
// without internals.
func Fail(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error, known func(error) *Details) {
	var p *Details
	if errors.As(err, &p) {
		Write(w, p)
		return
	}
	if p := known(err); p != nil {
		Write(w, p)
		return
	}
	log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	WriteErr(w, err)
}

// Put answers a PUT with v: 201 Created with a Location header when the
// request created the resource at location, 200 OK when it replaced it.
func Put(w http.ResponseWriter, created bool, location string, v any) {
	status := http.StatusOK
	if created {
		w.Header().Set("Location", location)
		status = http.StatusCreated
	}
	JSON(w, status, v)
}

// JSON writes v with status as application/json.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// RequireToken wraps h so that it answers 401 unless the request carries
// "Authorization: Bearer token". An empty token refuses every request.
func RequireToken(token string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="admin"`)
			Error(w, http.StatusUnauthorized, "admin token required: Authorization: Bearer $ADMIN_TOKEN")
			return
		}
		h.ServeHTTP(w, r)
	})
}
