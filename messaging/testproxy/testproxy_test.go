package testproxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// echo starts a server that writes back every line it reads.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip writes a line and reads it back within timeout.
func roundTrip(c net.Conn, line string, timeout time.Duration) (string, error) {
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	return got[:len(got)-1], nil
}

func dial(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestProxyForwardsBothWays(t *testing.T) {
	p := New(t, echo(t))
	c := dial(t, p)
	for _, line := range []string{"hello", "again"} {
		if got, err := roundTrip(c, line, 5*time.Second); err != nil || got != line {
			t.Fatalf("round trip of %q: %q, %v", line, got, err)
		}
	}
}

func TestCutResetsConnectionsAndRefusesNewOnesUntilRestore(t *testing.T) {
	p := New(t, echo(t))
	c := dial(t, p)
	if _, err := roundTrip(c, "before", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if got, want := p.Cut(Refuse), 1; got != want {
		t.Errorf("Cut reset %d connections, want %d", got, want)
	}
	// The open connection is gone, not merely silent.
	if _, err := roundTrip(c, "after", 5*time.Second); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("round trip on a cut connection: %v, want a reset or EOF", err)
	}
	// A new connection is reset: while connecting or at its first use.
	if refused, err := net.Dial("tcp", p.Addr()); err == nil {
		defer refused.Close()
		if _, err := roundTrip(refused, "during", 5*time.Second); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("round trip on a new connection during the cut: %v, want a reset or EOF", err)
		}
	}
	p.Restore()
	if got, err := roundTrip(dial(t, p), "restored", 5*time.Second); err != nil || got != "restored" {
		t.Errorf("round trip after Restore: %q, %v", got, err)
	}
}

func TestHoldForwardsAHeldConnectionOnRestore(t *testing.T) {
	p := New(t, echo(t))
	p.Cut(Hold)
	c := dial(t, p)
	if _, err := roundTrip(c, "held", 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("round trip while held: %v, want no answer", err)
	}
	p.Restore()
	// The line written while held reaches the server now.
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || got != "held\n" {
		t.Fatalf("after Restore read %q, %v, want the held line echoed", got, err)
	}
}

func TestURLNamesTheProxy(t *testing.T) {
	p := New(t, echo(t))
	got := p.URL("postgres://postgres@127.0.0.1:5432/orderdb?sslmode=disable")
	if want := "postgres://postgres@" + p.Addr() + "/orderdb?sslmode=disable"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
}

func TestCloseEndsEveryConnection(t *testing.T) {
	p := New(t, echo(t))
	c := dial(t, p)
	if _, err := roundTrip(c, "open", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if _, err := roundTrip(c, "closed", 5*time.Second); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("round trip after Close: %v, want a reset or EOF", err)
	}
	if c, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		_ = c.Close()
		t.Errorf("dial after Close succeeded")
	}
}
