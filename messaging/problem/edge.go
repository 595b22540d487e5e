package problem

import (
	"errors"
	"log/slog"
	"net/http"
)

// Edge is what every handler of a REST API over one kind of resource
// shares: the one mapping of its domain's sentinel errors to problems,
// made here at the HTTP edge.
type Edge struct {
	// Resource names what the path's {id} identifies, in a 404's detail:
	// "item a not found".
	Resource string
	// NotFound (404) and Invalid (422) are the domain's sentinels.
	NotFound, Invalid error
	// ListInvalid lists each failure of a joined Invalid error (one of
	// errors.Join) in the 422's errors, with the detail "the <Resource>
	// is invalid"; otherwise the detail is the error's text.
	ListInvalid bool
	// Log receives the failures answered 500; nil means slog.Default().
	Log *slog.Logger
}

// Fail writes err as a problem (see Fail): NotFound as 404, Invalid as
// 422, a *Details as it is, and anything else logged once and answered
// 500 without internals.
func (e *Edge) Fail(w http.ResponseWriter, r *http.Request, err error) {
	log := e.Log
	if log == nil {
		log = slog.Default()
	}
	Fail(w, r, log, err, func(err error) *Details {
		switch {
		case errors.Is(err, e.NotFound):
			return New(http.StatusNotFound, e.Resource+" "+r.PathValue("id")+" not found")
		case errors.Is(err, e.Invalid):
			return e.invalid(err)
		}
		return nil
	})
}

// invalid is the 422 of err, listing each of its failures when
// ListInvalid.
func (e *Edge) invalid(err error) *Details {
	p := New(http.StatusUnprocessableEntity, err.Error())
	if joined, ok := err.(interface{ Unwrap() []error }); ok && e.ListInvalid {
		for _, err := range joined.Unwrap() {
			p.Errors = append(p.Errors, err.Error())
		}
		p.Detail = "the " + e.Resource + " is invalid"
	}
	return p
}
