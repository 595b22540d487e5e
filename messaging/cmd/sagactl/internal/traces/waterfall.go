package traces

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Waterfall is one trace laid out for a page: its spans in tree order,
// each placed on the trace's time axis.
type Waterfall struct {
	TraceID  string
	Start    time.Time
	Duration time.Duration
	Rows     []Row
	// Services are the services seen, sorted; Row.Color indexes them.
	Services []string
	Errors   int
	// Ticks mark the time axis at every quarter.
	Ticks []Tick
}

// Row is a span in the waterfall.
type Row struct {
	Span
	Depth int
	// Indent has one element a level, for the page to range over.
	Indent []struct{}
	// Offset is the span's start from the trace's.
	Offset time.Duration
	Took   time.Duration
	// Left and Width place the span's bar, in percent of the trace.
	Left, Width string
	// Color is the index of the span's service in Services (modulo 8).
	Color int
}

// Tick is a mark on the time axis.
type Tick struct {
	Left  string
	Label string
}

// Layout lays the spans of one trace out: each span under its parent,
// siblings by start time; a span whose parent was not received is shown
// as a root. A span received twice (an export retried) is shown once.
func Layout(id TraceID, spans []Span) Waterfall {
	w := Waterfall{TraceID: id.String()}
	byID := map[string]Span{}
	for _, s := range spans {
		byID[s.SpanID] = s // the last received wins
	}
	if len(byID) == 0 {
		return w
	}
	children := map[string][]Span{}
	var roots []Span
	services := map[string]bool{}
	var end time.Time
	for _, s := range byID {
		if _, ok := byID[s.ParentID]; ok && s.ParentID != s.SpanID {
			children[s.ParentID] = append(children[s.ParentID], s)
		} else {
			roots = append(roots, s)
		}
		services[s.Service] = true
		if w.Start.IsZero() || s.Start.Before(w.Start) {
			w.Start = s.Start
		}
		if s.End.After(end) {
			end = s.End
		}
	}
	w.Duration = end.Sub(w.Start)
	for s := range services {
		w.Services = append(w.Services, s)
	}
	slices.Sort(w.Services)
	seen := map[string]bool{}
	var walk func(level []Span, depth int)
	walk = func(level []Span, depth int) {
		slices.SortFunc(level, func(a, b Span) int {
			return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.SpanID, b.SpanID))
		})
		for _, s := range level {
			if seen[s.SpanID] {
				continue
			}
			seen[s.SpanID] = true
			w.Rows = append(w.Rows, w.row(s, depth))
			walk(children[s.SpanID], depth+1)
		}
	}
	walk(roots, 0)
	for _, r := range w.Rows {
		if r.Error {
			w.Errors++
		}
	}
	for q := range 5 {
		w.Ticks = append(w.Ticks, Tick{Left: percent(time.Duration(q), 4), Label: Ms(w.Duration * time.Duration(q) / 4)})
	}
	return w
}

func (w Waterfall) row(s Span, depth int) Row {
	r := Row{Span: s, Depth: depth, Indent: make([]struct{}, min(depth, 24)), Offset: s.Start.Sub(w.Start), Took: s.End.Sub(s.Start)}
	r.Color, _ = slices.BinarySearch(w.Services, s.Service)
	r.Color %= 8 // the stylesheet's palette
	if w.Duration <= 0 {
		r.Left, r.Width = "0", "100"
		return r
	}
	r.Left = percent(r.Offset, w.Duration)
	// A bar too thin to see is drawn a little wider, inside the axis.
	width := max(r.Took, w.Duration/250)
	r.Width = percent(min(width, w.Duration-r.Offset), w.Duration)
	return r
}

func percent(part, whole time.Duration) string {
	return fmt.Sprintf("%.3f", 100*float64(part)/float64(whole))
}

// Ms writes a duration in milliseconds, as a waterfall's axis does.
func Ms(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms >= 100:
		return fmt.Sprintf("%.0f ms", ms)
	case ms >= 1:
		return fmt.Sprintf("%.1f ms", ms)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", ms), "0"), ".") + " ms"
}
