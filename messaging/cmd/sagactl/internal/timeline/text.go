package timeline

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Line is an event as both the text and the page show it.
type Line struct {
	Time, Source, Where, What, Detail string
	Kind                              string
	// Replay, for a dead letter, is its topic: the page links to a replay.
	Replay string
}

// Lines are the events, oldest first, formatted once for every view.
func (tl Timeline) Lines() []Line {
	out := make([]Line, len(tl.Events))
	for i, e := range tl.Events {
		out[i] = Line{Time: e.At.UTC().Format(TimeFormat), Source: e.Source, Where: e.Where, What: e.What, Detail: e.Detail, Kind: e.Kind}
		if e.Kind == KindDeadLetter {
			out[i].Replay = e.Topic
		}
	}
	return out
}

// Summary is the saga in one line: the order, its customer, amount and
// status.
func (tl Timeline) Summary() string {
	o := tl.Order
	if o == nil {
		return "saga " + tl.OrderID + ": no order row"
	}
	s := fmt.Sprintf("saga %s: customer %s, %d line(s), %s, %s", o.ID, o.CustomerID, len(o.Lines), Amount(o.AmountCents, o.Currency), o.Status)
	if o.FailureReason != "" {
		s += " (" + o.FailureReason + ")"
	}
	return s
}

// WriteText prints the timeline as sagactl saga show does: the summary,
// the lines and steps of the order, the events, then the notes.
func (tl Timeline) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintln(&b, tl.Summary())
	if o := tl.Order; o != nil {
		fmt.Fprintf(&b, "placed %s, last changed %s, deadline %s\n", o.CreatedAt.UTC().Format(TimeFormat),
			o.UpdatedAt.UTC().Format(TimeFormat), o.Deadline.UTC().Format(TimeFormat))
		for _, l := range o.Lines {
			fmt.Fprintf(&b, "  line  %s x %d at %s\n", l.ItemID, l.Quantity, Amount(l.UnitPriceCents, o.Currency))
		}
		for _, s := range o.Steps {
			fmt.Fprintf(&b, "  step  %s %s %s\n", s.Name, s.Status, s.Reason)
		}
	}
	fmt.Fprintln(&b)
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME (UTC)\tSOURCE\tWHERE\tWHAT\tDETAIL")
	for _, l := range tl.Lines() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.Time, l.Source, dash(l.Where), dash(l.What), l.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(&b, "%d event(s)\n", len(tl.Events))
	for _, n := range tl.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	var out strings.Builder
	for _, l := range strings.SplitAfter(b.String(), "\n") {
		out.WriteString(strings.TrimRight(l, " \n"))
		if strings.HasSuffix(l, "\n") {
			out.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, out.String())
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
