package problem

import (
	"net/http"
	"strings"
)

// Routed wraps a ServeMux (or any handler that answers unknown paths and
// methods with http.Error) so that those 404 and 405 answers are problem
// details too, like every other error of the API.
func Routed(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&plainErrors{ResponseWriter: w}, r)
	})
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
