package openapitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pb33f/libopenapi-validator/paths"
	"github.com/pb33f/libopenapi/orderedmap"
)

// Case is one request to a service and the status it must get.
type Case struct {
	Method string
	// Path is the request's path, with its query if any.
	Path string
	// Header holds the request's headers (Content-Type, Authorization,
	// Idempotency-Key…), sent as given.
	Header map[string]string
	Body   string
	// Status is the status the service must answer.
	Status int
}

// Answer is what a Check got back.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
	// JSON is the body decoded when it is a JSON object, else nil.
	JSON map[string]any
}

// Check sends c to the service at baseURL and fails t unless the answer
// has c.Status and is what the document describes for that operation
// and status: a documented status, the documented content type and body
// schema, the documented headers (required ones present), and no body
// where the document describes none. When c expects a success, the
// request itself must match the document too (its parameters, body and
// security), so that a document that refuses what the service accepts
// fails as well. It records the response as exercised (CheckExercised).
func (d *Document) Check(t testing.TB, baseURL string, c Case) Answer {
	t.Helper()
	req := c.request(t, baseURL)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.Method, c.Path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", c.Method, c.Path, err)
	}
	a := Answer{Status: res.StatusCode, Header: res.Header, Body: body}
	_ = json.Unmarshal(body, &a.JSON)
	if a.Status != c.Status {
		t.Errorf("%s %s: status %d, want %d: %s", c.Method, c.Path, a.Status, c.Status, excerpt(body))
	}
	if c.Status < 300 {
		if ok, errs := d.validator.ValidateHttpRequestSync(c.request(t, baseURL)); !ok {
			t.Errorf("%s %s: the request does not match the OpenAPI document:\n%s", c.Method, c.Path, describe(errs))
		}
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	if ok, errs := d.validator.ValidateHttpResponse(req, res); !ok {
		t.Errorf("%s %s: answer %d does not match the OpenAPI document:\n%s%s", c.Method, c.Path, a.Status, describe(errs), excerpt(body))
	}
	d.record(t, req, a)
	return a
}

// request builds c's request to baseURL; each call gives a fresh body.
func (c Case) request(t testing.TB, baseURL string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(c.Method, baseURL+c.Path, strings.NewReader(c.Body))
	if err != nil {
		t.Fatalf("%s %s: %v", c.Method, c.Path, err)
	}
	for k, v := range c.Header {
		req.Header.Set(k, v)
	}
	return req
}

// record marks the operation's response a as exercised, and fails t when
// a has a body that the documented response does not describe (the
// validator checks a body only against a response that declares one).
func (d *Document) record(t testing.TB, req *http.Request, a Answer) {
	t.Helper()
	item, _, path := paths.FindPath(req, d.model, nil)
	if item == nil {
		return // the validator has reported it
	}
	op := item.GetOperations().GetOrZero(strings.ToLower(req.Method))
	if op == nil {
		return
	}
	code := strconv.Itoa(a.Status)
	response := op.Responses.Codes.GetOrZero(code)
	if response == nil {
		return
	}
	if len(bytes.TrimSpace(a.Body)) > 0 && orderedmap.Len(response.Content) == 0 {
		t.Errorf("%s %s: answer %d has a body, but the document describes none: %s", req.Method, path, a.Status, excerpt(a.Body))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.exercised[req.Method+" "+path+" "+code] = true
}

// CheckEveryOperation sends each documented operation with no body, its
// path parameters filled with "x" and query as its query, and checks
// each answer as Check does, against status. It is for what a service
// answers before any of its handlers runs, whatever the route: the kit
// answers 400 to a query holding a NUL ("q=%00"), for one.
func (d *Document) CheckEveryOperation(t testing.TB, baseURL, query string, status int) {
	t.Helper()
	params := regexp.MustCompile(`\{[^}]*\}`)
	for _, op := range d.Operations() {
		method, path, _ := strings.Cut(op, " ")
		d.Check(t, baseURL, Case{Method: method, Path: params.ReplaceAllString(path, "x") + "?" + query, Status: status})
	}
}

// excerpt is the start of body to show in a failure: its first 300 bytes
// of text, or its length when it is not text.
func excerpt(body []byte) string {
	if !utf8.Valid(body) {
		return fmt.Sprintf("(%d bytes, not text)", len(body))
	}
	if len(body) > 300 {
		return string(body[:300]) + "…"
	}
	return string(body)
}
