// Package testproxy puts a TCP proxy between code under test and a server
// (PostgreSQL, a broker) so that a test can cut the network to that server
// without touching the server itself, which other tests share: Cut resets
// every forwarded connection and refuses or holds new ones until Restore.
// To the code under test this looks like a database that crashed or a
// network that partitioned, and it affects only the clients that dial the
// proxy.
package testproxy

import (
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Mode says what a cut proxy does with a new connection.
type Mode int

const (
	// Refuse resets a new connection at once, as a server that is down does.
	Refuse Mode = iota
	// Hold accepts a new connection and leaves it silent until Restore,
	// then forwards it, as a network that drops packets for a while does.
	Hold
)

// Proxy forwards the connections accepted on a loopback port to a target
// address. Its methods are safe for concurrent use.
type Proxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu     sync.Mutex
	cut    bool
	mode   Mode
	gen    int                   // incremented by every Cut
	conns  map[net.Conn]struct{} // both ends of every forwarded connection
	held   []net.Conn
	closed bool
}

// New starts a proxy to target (host:port) on a random loopback port and
// closes it in t.Cleanup.
func New(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testproxy: listen: %v", err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL returns rawURL (such as a postgres:// URL) with its host:port
// replaced by the proxy's, or rawURL unchanged if it does not parse.
func (p *Proxy) URL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	u.Host = p.Addr()
	return u.String()
}

// Cut resets every forwarded connection, and every held one, and treats new
// connections as mode says until Restore. It returns how many connections
// it reset. Cutting a cut proxy changes its mode and resets what it held.
func (p *Proxy) Cut(mode Mode) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut, p.mode = true, mode
	p.gen++
	n := len(p.conns)/2 + len(p.held)
	for c := range p.conns {
		reset(c)
	}
	for _, c := range p.held {
		reset(c)
	}
	p.conns, p.held = map[net.Conn]struct{}{}, nil
	return n
}

// Restore forwards new connections again, and the held ones.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
	for _, c := range p.held {
		p.forward(c)
	}
	p.held = nil
}

// Close stops the proxy, resets every connection and waits for its
// goroutines to end.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	_ = p.ln.Close()
	p.Cut(Refuse)
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		p.mu.Lock()
		switch {
		case p.closed || (p.cut && p.mode == Refuse):
			reset(c)
		case p.cut:
			p.held = append(p.held, c)
		default:
			p.forward(c)
		}
		p.mu.Unlock()
	}
}

// forward connects client to the target in the background; p.mu is held.
func (p *Proxy) forward(client net.Conn) {
	gen := p.gen
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			reset(client)
			return
		}
		p.mu.Lock()
		if p.gen != gen || p.closed {
			// Cut while dialling: this connection belongs to the past.
			p.mu.Unlock()
			reset(client)
			_ = server.Close()
			return
		}
		p.conns[client], p.conns[server] = struct{}{}, struct{}{}
		p.mu.Unlock()
		done := make(chan struct{}, 2)
		pipe := func(dst, src net.Conn) {
			_, _ = io.Copy(dst, src)
			done <- struct{}{}
		}
		go pipe(server, client)
		go pipe(client, server)
		<-done
		// One side ended: end both, and let the other pipe finish.
		p.mu.Lock()
		delete(p.conns, client)
		delete(p.conns, server)
		p.mu.Unlock()
		reset(client)
		_ = server.Close()
		<-done
	}()
}

// reset closes c with a TCP reset rather than an orderly shutdown, as a
// crashed peer or a broken network does.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}
