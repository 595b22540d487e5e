// Package openapitest checks a service against its OpenAPI 3.1 document:
// that the document documents exactly the routes the service serves, and
// that the answers the service really gives (status, headers, content
// type, body) are the ones the document describes. The document is checked
// against the OpenAPI specification and answers against its schemas with
// github.com/pb33f/libopenapi-validator; this package only sends the
// requests, keeps count of what they exercised and reports.
package openapitest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/errors"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
)

// Document is a service's OpenAPI document, loaded to check answers
// against. It records which documented responses the checks exercised.
type Document struct {
	raw       []byte
	model     *v3.Document
	validator validator.Validator

	mu        sync.Mutex
	exercised map[string]bool // "GET /items/{id} 404"
}

// Load parses doc, an OpenAPI 3.1 document in JSON or YAML, and fails t
// unless it is valid against the OpenAPI specification. Formats (uuid,
// date-time, uri-reference) are asserted, not only annotations.
func Load(t testing.TB, doc []byte) *Document {
	t.Helper()
	parsed, err := libopenapi.NewDocument(doc)
	if err != nil {
		t.Fatalf("openapi: parse: %v", err)
	}
	if v := parsed.GetVersion(); !strings.HasPrefix(v, "3.1") {
		t.Fatalf("openapi: version %q, want 3.1.x", v)
	}
	v, errs := validator.NewValidator(parsed, config.WithFormatAssertions())
	if len(errs) > 0 {
		t.Fatalf("openapi: validator: %v", errs)
	}
	if ok, errs := v.ValidateDocument(); !ok {
		t.Fatalf("openapi: the document is not valid OpenAPI:\n%s", describe(errs))
	}
	model, err := parsed.BuildV3Model()
	if err != nil {
		t.Fatalf("openapi: model: %v", err)
	}
	return &Document{raw: doc, model: &model.Model, validator: v, exercised: map[string]bool{}}
}

// Operations lists the documented operations as ServeMux patterns
// ("GET /items/{id}"), sorted.
func (d *Document) Operations() []string {
	var ops []string
	for path, item := range d.model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().FromOldest() {
			ops = append(ops, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(ops)
	return ops
}

// CheckRoutes fails t for each pattern the service serves that the
// document does not document, and for each documented operation that no
// pattern serves. served are ServeMux patterns with a method, such as
// "GET /items/{id}"; a trailing wildcard "{rest...}" is named "{rest}"
// as OpenAPI names it.
func (d *Document) CheckRoutes(t testing.TB, served []string) {
	t.Helper()
	documented := map[string]bool{}
	for _, op := range d.Operations() {
		documented[op] = true
	}
	routes := map[string]bool{}
	for _, p := range served {
		routes[strings.ReplaceAll(p, "...}", "}")] = true
	}
	for _, p := range slices.Sorted(maps.Keys(routes)) {
		if !documented[p] {
			t.Errorf("the service serves %s, which its OpenAPI document does not document", p)
		}
	}
	for _, op := range slices.Sorted(maps.Keys(documented)) {
		if !routes[op] {
			t.Errorf("the OpenAPI document documents %s, which the service does not serve", op)
		}
	}
}

// CheckExercised fails t for each documented response ("GET /readyz 503")
// that no Check exercised, unless untested names it with the reason it is
// not driven; and for each entry of untested that is not a documented
// response or was exercised after all, so that the list stays true.
func (d *Document) CheckExercised(t testing.TB, untested map[string]string) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	documented := map[string]bool{}
	for _, op := range d.Operations() {
		method, path, _ := strings.Cut(op, " ")
		item := d.model.Paths.PathItems.GetOrZero(path)
		responses := item.GetOperations().GetOrZero(strings.ToLower(method)).Responses
		if responses == nil {
			continue // the document is invalid without them: Load says so
		}
		for code := range responses.Codes.KeysFromOldest() {
			key := op + " " + code
			documented[key] = true
			_, skipped := untested[key]
			switch {
			case !d.exercised[key] && !skipped:
				t.Errorf("no request exercised the documented response %s", key)
			case d.exercised[key] && skipped:
				t.Errorf("%s is listed as not exercised (%q), but a request exercised it", key, untested[key])
			}
		}
	}
	for key := range untested {
		if !documented[key] {
			t.Errorf("%s is listed as not exercised, but the document does not document it", key)
		}
	}
}

// describe lists validation errors one a line, each with its schema
// failures.
func describe(errs []*errors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "  %s: %s", e.Message, e.Reason)
		if e.SpecLine > 0 {
			fmt.Fprintf(&b, " (document line %d)", e.SpecLine)
		}
		b.WriteByte('\n')
		for _, f := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "    at %s: %s (%s)\n", "/"+strings.Join(f.InstancePath, "/"), f.Reason, f.KeywordLocation)
		}
	}
	return b.String()
}
