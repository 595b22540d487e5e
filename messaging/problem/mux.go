package problem

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Routed wraps a ServeMux (or any handler that answers unknown paths and
// methods with http.Error) so that those 404 and 405 answers are problem
// details too, like every other error of the API. It answers 400 for a
// path or query that no handler could use (see CheckURL).
func Routed(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := CheckURL(r.URL); p != nil {
			Write(w, p)
			return
		}
		h.ServeHTTP(&plainErrors{ResponseWriter: w}, r)
	})
}

// CheckURL returns a 400 problem when u's decoded path or query holds a
// NUL or invalid UTF-8 (%00, %FF: PostgreSQL text refuses both), or the
// query does not parse; nil when u is usable.
func CheckURL(u *url.URL) *Details {
	if !usableText(u.Path) {
		return New(http.StatusBadRequest, "the path holds a NUL character or invalid UTF-8")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return New(http.StatusBadRequest, "malformed query: "+err.Error())
	}
	for k, vs := range q {
		for _, v := range append(vs, k) {
			if !usableText(v) {
				return New(http.StatusBadRequest, "the query holds a NUL character or invalid UTF-8")
			}
		}
	}
	return nil
}

// usableText reports whether s is valid UTF-8 without a NUL.
func usableText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// plainErrors turns a plain-text 404 or 405 into a problem.
type plainErrors struct {
	http.ResponseWriter
	replaced bool
}

func (p *plainErrors) WriteHeader(code int) {
	h := p.Header()
	if (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) && strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		p.replaced = true
		h.Del("X-Content-Type-Options")
		detail := "no such resource"
		if code == http.StatusMethodNotAllowed {
			detail = "method not allowed here; allowed: " + h.Get("Allow")
		}
		Write(p.ResponseWriter, New(code, detail))
		return
	}
	p.ResponseWriter.WriteHeader(code)
}

func (p *plainErrors) Write(b []byte) (int, error) {
	if p.replaced {
		return len(b), nil // the plain-text body of the replaced answer
	}
	return p.ResponseWriter.Write(b)
}

// Flush lets long-running handlers flush through the wrapper.
func (p *plainErrors) Flush() {
	if f, ok := p.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
