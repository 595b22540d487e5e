package httpjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/problem"
)

// Decode reads r's JSON body into v. It returns a *problem.Details: 415 when a
// body comes without a JSON content type, 413 over MaxBody, 400 for
// malformed JSON, invalid UTF-8, a NUL character, unknown fields or
// trailing data, 400 or 422 for a value of the wrong kind or range. An
// empty body is allowed when allowEmpty, leaving v as it was; it needs no
// content type.
func Decode(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) error {
	ct := r.Header.Get("Content-Type")
	if ct != "" || !allowEmpty {
		if err := checkJSONType(ct); err != nil {
			return err
		}
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		if allowEmpty {
			return nil
		}
		return problem.New(http.StatusBadRequest, "empty body: a JSON object is required")
	}
	if ct == "" {
		return checkJSONType(ct)
	}
	return decodeJSON(body, v)
}

// checkJSONType refuses a content type other than JSON with 415.
func checkJSONType(ct string) error {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return problem.New(http.StatusUnsupportedMediaType, fmt.Sprintf("content type %q is not application/json", ct))
	}
	return nil
}

// readBody reads at most MaxBody bytes of r's body.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, problem.New(http.StatusRequestEntityTooLarge, fmt.Sprintf("body exceeds %d bytes", MaxBody))
		}
		return nil, problem.New(http.StatusBadRequest, "reading body: "+err.Error())
	}
	return body, nil
}

// decodeJSON strictly decodes one JSON value from body into v.
func decodeJSON(body []byte, v any) error {
	if !utf8.Valid(body) {
		return problem.New(http.StatusBadRequest, "malformed JSON: the body is not valid UTF-8")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describe(err)
	}
	if dec.More() {
		return problem.New(http.StatusBadRequest, "malformed JSON: data after the top-level value")
	}
	if envelope.ContainsNUL(body) {
		return problem.New(http.StatusBadRequest, `malformed JSON: a string holds a NUL character (\u0000)`)
	}
	return nil
}

// describe turns a decoding error into a problem that names the JSON
// field and kind expected, never a Go type.
func describe(err error) *problem.Details {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return problem.New(http.StatusBadRequest, fmt.Sprintf("malformed JSON: %v at byte %d", syntax, syntax.Offset))
	case errors.As(err, &typ):
		return wrongValue(typ)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problem.New(http.StatusBadRequest, "malformed JSON: the body ends early")
	default:
		return problem.New(http.StatusBadRequest, "malformed JSON: "+strings.TrimPrefix(err.Error(), "json: "))
	}
}

// wrongValue explains a value of the wrong kind (400) or a number out of
// an integer field's range (422).
func wrongValue(e *json.UnmarshalTypeError) *problem.Details {
	what := "the body"
	if e.Field != "" {
		what = fmt.Sprintf("field %q", e.Field)
	}
	if strings.HasPrefix(e.Value, "number") && isInteger(e.Type) {
		return problem.New(http.StatusUnprocessableEntity, fmt.Sprintf("%s must be a whole number in range, not %s", what, e.Value))
	}
	return problem.New(http.StatusBadRequest, fmt.Sprintf("malformed JSON: %s must be %s, not %s", what, jsonKind(e.Type), e.Value))
}

func isInteger(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

// jsonKind names the JSON kind of value that decodes into t.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch k := t.Kind(); {
	case isInteger(t):
		return "a whole number"
	case k == reflect.Float32 || k == reflect.Float64:
		return "a number"
	case k == reflect.Bool:
		return "true or false"
	case k == reflect.String:
		return "a string"
	case k == reflect.Slice || k == reflect.Array:
		return "an array"
	case k == reflect.Struct || k == reflect.Map:
		return "an object"
	}
	return "another kind of value"
}
