// Package traces is the console's own trace viewer: it receives the
// services' spans as an OTLP/HTTP collector does (POST /v1/traces, protobuf
// or JSON), keeps the most recent ones in memory, bounded, indexed by trace
// id, and lays one trace out as a waterfall. It is for a developer's
// machine without Jaeger: nothing is written anywhere, and a restart of
// the console forgets every span.
package traces

import (
	"encoding/hex"
	"fmt"
	"sync"
	"time"
)

// TraceID is a W3C trace id.
type TraceID [16]byte

// String is the id in lower-case hex, as traceparent writes it.
func (id TraceID) String() string { return hex.EncodeToString(id[:]) }

// ParseTraceID reads a trace id in hex; an all-zero id is invalid.
func ParseTraceID(s string) (TraceID, error) {
	var id TraceID
	if len(s) != 32 {
		return id, fmt.Errorf("trace id %q: want 32 hex digits", s)
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("trace id %q: %w", s, err)
	}
	if id == (TraceID{}) {
		return id, fmt.Errorf("trace id %q: all zero", s)
	}
	return id, nil
}

// Span is a span as the console shows it.
type Span struct {
	TraceID  TraceID
	SpanID   string // hex
	ParentID string // hex, "" for a root
	Service  string // the resource's service.name
	Name     string
	Kind     string // server, client, producer, consumer, internal
	Start    time.Time
	End      time.Time
	Error    bool   // status code ERROR
	Status   string // the status message
	// Attributes are the span's attributes as key=value, in its order.
	Attributes []string
}

// Store keeps the most recent spans received, at most Max of them: the
// oldest received is dropped first. It is safe for concurrent use.
type Store struct {
	mu      sync.Mutex
	ring    []*Span // ring[head] is the oldest once full
	head    int
	byTrace map[TraceID][]*Span // each in the order received
}

// NewStore returns a store of at most n spans (at least one).
func NewStore(n int) *Store {
	return &Store{ring: make([]*Span, 0, max(1, n)), byTrace: map[TraceID][]*Span{}}
}

// Add keeps spans, dropping the oldest beyond the store's bound.
func (s *Store) Add(spans []Span) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range spans {
		sp := &spans[i]
		if len(s.ring) < cap(s.ring) {
			s.ring = append(s.ring, sp)
		} else {
			s.evict(s.ring[s.head])
			s.ring[s.head] = sp
			s.head = (s.head + 1) % len(s.ring)
		}
		s.byTrace[sp.TraceID] = append(s.byTrace[sp.TraceID], sp)
	}
}

// evict forgets old, the oldest span kept and so the first of its trace.
func (s *Store) evict(old *Span) {
	rest := s.byTrace[old.TraceID][1:]
	if len(rest) == 0 {
		delete(s.byTrace, old.TraceID)
		return
	}
	s.byTrace[old.TraceID] = rest
}

// Trace returns the spans of trace id kept, in the order received.
func (s *Store) Trace(id TraceID) []Span {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.byTrace[id]
	out := make([]Span, len(kept))
	for i, sp := range kept {
		out[i] = *sp
	}
	return out
}

// Len returns how many spans are kept, and of how many traces.
func (s *Store) Len() (spans, traces int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ring), len(s.byTrace)
}

// Max returns the store's bound.
func (s *Store) Max() int { return cap(s.ring) }
