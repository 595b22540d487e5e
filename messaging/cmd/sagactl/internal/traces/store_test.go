package traces

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func span(trace byte, id string, parent string, start, took int) Span {
	t0 := time.Unix(1_800_000_000, 0)
	return Span{TraceID: TraceID{15: trace}, SpanID: id, ParentID: parent, Service: "svc-" + id[:1], Name: "span " + id,
		Start: t0.Add(time.Duration(start) * time.Millisecond), End: t0.Add(time.Duration(start+took) * time.Millisecond)}
}

// The store keeps the most recent spans, dropping the oldest first, and
// forgets a trace whose spans are all gone.
func TestStoreDropsTheOldestSpansFirst(t *testing.T) {
	s := NewStore(3)
	s.Add([]Span{span(1, "a1", "", 0, 1), span(2, "b1", "", 0, 1)})
	s.Add([]Span{span(1, "a2", "a1", 0, 1), span(2, "b2", "b1", 0, 1)})
	if spans, traces := s.Len(); spans != 3 || traces != 2 {
		t.Fatalf("len %d spans of %d traces, want 3 of 2", spans, traces)
	}
	if got := s.Trace(TraceID{15: 1}); len(got) != 1 || got[0].SpanID != "a2" {
		t.Errorf("trace 1 %+v, want a2 alone (a1 dropped, the oldest)", got)
	}
	s.Add([]Span{span(3, "c1", "", 0, 1), span(3, "c2", "", 0, 1), span(3, "c3", "", 0, 1)})
	if spans, traces := s.Len(); spans != 3 || traces != 1 {
		t.Errorf("len %d spans of %d traces, want 3 of 1: the older traces forgotten", spans, traces)
	}
	if got := s.Trace(TraceID{15: 2}); len(got) != 0 {
		t.Errorf("trace 2 still has %d spans", len(got))
	}
}

// A waterfall puts children under their parents, siblings by start, an
// orphan at the root, a span received twice once, and places the bars.
func TestLayoutOrdersTheTreeAndPlacesTheBars(t *testing.T) {
	spans := []Span{
		span(1, "c", "b", 40, 60), // ends the trace at 100 ms
		span(1, "a", "", 0, 50),
		span(1, "b", "a", 20, 10),
		span(1, "d", "a", 10, 5),
		span(1, "e", "gone", 30, 1), // its parent never arrived
		span(1, "a", "", 0, 50),     // an export retried
	}
	w := Layout(TraceID{15: 1}, spans)
	var got string
	for _, r := range w.Rows {
		got += fmt.Sprintf("%d%s@%s+%s ", r.Depth, r.SpanID, r.Left, r.Width)
	}
	want := "0a@0.000+50.000 1d@10.000+5.000 1b@20.000+10.000 2c@40.000+60.000 0e@30.000+1.000 "
	if got != want {
		t.Errorf("rows %s\nwant %s", got, want)
	}
	if w.Duration != 100*time.Millisecond || w.Ticks[4].Label != "100 ms" || w.Ticks[2].Left != "50.000" {
		t.Errorf("duration %s, ticks %+v", w.Duration, w.Ticks)
	}
}

func TestMs(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0 ms", 4 * time.Microsecond: "0.004 ms", 335 * time.Microsecond: "0.335 ms",
		500 * time.Microsecond: "0.5 ms", 14 * time.Millisecond: "14.0 ms", 958 * time.Millisecond / 10: "95.8 ms", 250 * time.Millisecond: "250 ms"} {
		if got := Ms(d); got != want {
			t.Errorf("Ms(%s) = %q, want %q", d, got, want)
		}
	}
}

// What a span may hold is bounded, whatever the exporter sends.
func TestClipKeepsRunesWhole(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	got := clip(long)
	if !utf8.ValidString(got) || len(got) > maxText+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("clip: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if clip("short") != "short" {
		t.Error("clip changed a short text")
	}
}
