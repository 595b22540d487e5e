// Package httpstatus records the status a handler answers, for the
// middleware that report it after the handler returns (the HTTP metrics,
// the request log).
package httpstatus

import "net/http"

// Recorder is a ResponseWriter that remembers the status written through
// it. It passes Flush on, so that long polls still flush through it, and
// Unwrap lets http.ResponseController reach the writer's deadlines.
type Recorder struct {
	http.ResponseWriter
	code int
}

// Record wraps w.
func Record(w http.ResponseWriter) *Recorder { return &Recorder{ResponseWriter: w} }

// WriteHeader remembers the first final status (1xx are interim answers).
func (w *Recorder) WriteHeader(code int) {
	if w.code == 0 && code >= 200 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write answers 200 when no status was written before, as net/http does.
func (w *Recorder) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush flushes the wrapped writer when it can.
func (w *Recorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap returns the wrapped writer.
func (w *Recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Code is the status answered: 200 for a handler that wrote nothing, as
// net/http then sends.
func (w *Recorder) Code() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}
