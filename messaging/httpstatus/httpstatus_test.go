package httpstatus_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/purchase-saga/messaging/httpstatus"
)

func TestRecorderKeepsTheFinalStatus(t *testing.T) {
	for name, tc := range map[string]struct {
		handler func(w http.ResponseWriter)
		want    int
	}{
		"nothing written":    {func(http.ResponseWriter) {}, 200},
		"body only":          {func(w http.ResponseWriter) { _, _ = w.Write([]byte("x")) }, 200},
		"status then body":   {func(w http.ResponseWriter) { w.WriteHeader(404); _, _ = w.Write([]byte("x")) }, 404},
		"interim then final": {func(w http.ResponseWriter) { w.WriteHeader(103); w.WriteHeader(201) }, 201},
		"second status":      {func(w http.ResponseWriter) { w.WriteHeader(409); w.WriteHeader(500) }, 409},
	} {
		t.Run(name, func(t *testing.T) {
			rec := httpstatus.Record(httptest.NewRecorder())
			tc.handler(rec)
			if got := rec.Code(); got != tc.want {
				t.Errorf("Code() = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestRecorderFlushesThrough(t *testing.T) {
	inner := httptest.NewRecorder()
	rec := httpstatus.Record(inner)
	var w http.ResponseWriter = rec
	f, ok := w.(http.Flusher)
	if !ok {
		t.Fatal("Recorder is no http.Flusher: long polls could not flush through it")
	}
	f.Flush()
	if !inner.Flushed {
		t.Error("Flush did not reach the wrapped writer")
	}
}
