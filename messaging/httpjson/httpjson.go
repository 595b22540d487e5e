// Package httpjson reads JSON request bodies and writes JSON answers with
// the errors SPEC section 5 asks for: 413 over 1 MiB, 415 for a content
// type other than JSON, 400 naming what is malformed (as problem details).
package httpjson

import (
	"encoding/json"
	"net/http"
)

// MaxBody is the largest request body accepted.
const MaxBody = 1 << 20

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
