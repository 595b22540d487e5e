package service

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/purchase-saga/messaging/config"
)

// serve runs newHTTPServer(h, c) on a loopback port and returns its address.
func serve(t *testing.T, c HTTPConfig) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	}), c)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// closedWithin reads conn until the server closes it and reports how long
// that took, failing the test when it stays open past limit.
func closedWithin(t *testing.T, conn net.Conn, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	_ = conn.SetReadDeadline(start.Add(limit))
	_, err := io.Copy(io.Discard, conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open after %s", limit)
	}
	return time.Since(start)
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func TestHTTPServerClosesADribbledBody(t *testing.T) {
	t.Parallel()
	addr := serve(t, HTTPConfig{ReadTimeout: 300 * time.Millisecond})
	conn := dial(t, addr)
	if _, err := io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go dribble(conn, stop)
	closedWithin(t, conn, 3*time.Second)
}

// dribble writes one byte every 50ms until stop closes or a write fails.
func dribble(conn net.Conn, stop <-chan struct{}) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			if _, err := conn.Write([]byte("x")); err != nil {
				return
			}
		}
	}
}

func TestHTTPServerClosesIdleKeepAlives(t *testing.T) {
	t.Parallel()
	addr := serve(t, HTTPConfig{IdleTimeout: 300 * time.Millisecond})
	conn := dial(t, addr)
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.Close {
		t.Fatal("server closed the connection at once; want it kept alive, then closed when idle")
	}
	closedWithin(t, conn, 3*time.Second)
}

func TestHTTPServerRefusesLargeHeaders(t *testing.T) {
	t.Parallel()
	addr := serve(t, HTTPConfig{})
	conn := dial(t, addr)
	req := "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 200<<10) + "\r\n\r\n"
	go func() { _, _ = io.WriteString(conn, req) }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if got, want := resp.StatusCode, http.StatusRequestHeaderFieldsTooLarge; got != want {
		t.Errorf("status = %d, want %d", got, want)
	}
}

func TestHTTPConfigDefaultsMatchTheEnvironmentDefaults(t *testing.T) {
	t.Parallel()
	var loaded HTTPConfig
	if err := config.Load(&loaded, func(string) (string, bool) { return "", false }); err != nil {
		t.Fatal(err)
	}
	var zero HTTPConfig
	if got, want := zero.withDefaults(), loaded; !reflect.DeepEqual(got, want) {
		t.Errorf("withDefaults() = %+v, want the env defaults %+v", got, want)
	}
	if got, min := loaded.WriteTimeout, 60*time.Second; got <= min {
		t.Errorf("write timeout %s is not longer than the 60s long-poll cap", got)
	}
}
