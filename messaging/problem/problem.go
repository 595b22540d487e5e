// Package problem writes RFC 9457 problem details: an API's errors, the
// mapping of a domain's sentinel errors to them (Edge), and the answers of
// a mux to unknown routes (Routed). Bodies are read by package httpjson,
// admin calls guarded by package bearer.
package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/purchase-saga/messaging/envelope"
)

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

// InvalidQuery answers 400 for a request whose query parameters are wrong,
// listing what is wrong with each.
func InvalidQuery(w http.ResponseWriter, problems []string) {
	p := New(http.StatusBadRequest, "invalid query")
	p.Errors = problems
	Write(w, p)
}
