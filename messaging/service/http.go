package service

import (
	"net/http"
	"time"
)

// HTTPConfig bounds what a slow or greedy client may hold: every service's
// server applies it (the zero value of a field means its default).
type HTTPConfig struct {
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout time.Duration `env:"HTTP_READ_HEADER_TIMEOUT" default:"10s"`
	// ReadTimeout bounds reading a whole request, body included, so a body
	// dribbled a byte at a time cannot hold a connection.
	ReadTimeout time.Duration `env:"HTTP_READ_TIMEOUT" default:"30s"`
	// WriteTimeout bounds a request from the end of its headers to the end
	// of its answer: longer than the longest long poll a service serves
	// (capped at 60s).
	WriteTimeout time.Duration `env:"HTTP_WRITE_TIMEOUT" default:"75s"`
	// IdleTimeout is how long a keep-alive connection may wait for its next request.
	IdleTimeout time.Duration `env:"HTTP_IDLE_TIMEOUT" default:"60s"`
	// MaxHeaderBytes bounds a request's headers; larger ones get 431.
	MaxHeaderBytes int `env:"HTTP_MAX_HEADER_BYTES" default:"65536"`
}

// withDefaults fills the fields left at zero, as a Config built in code
// (not loaded from the environment) leaves them.
func (c HTTPConfig) withDefaults() HTTPConfig {
	setDefault(&c.ReadHeaderTimeout, 10*time.Second)
	setDefault(&c.ReadTimeout, 30*time.Second)
	setDefault(&c.WriteTimeout, 75*time.Second)
	setDefault(&c.IdleTimeout, 60*time.Second)
	setDefault(&c.MaxHeaderBytes, 64<<10)
	return c
}

func setDefault[T time.Duration | int](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// newHTTPServer returns the server that serves h with the limits of c.
func newHTTPServer(h http.Handler, c HTTPConfig) *http.Server {
	c = c.withDefaults()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: c.ReadHeaderTimeout,
		ReadTimeout:       c.ReadTimeout,
		WriteTimeout:      c.WriteTimeout,
		IdleTimeout:       c.IdleTimeout,
		MaxHeaderBytes:    c.MaxHeaderBytes,
	}
}
