package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/purchase-saga/messaging/cmd/sagactl/internal/deadletter"
)

func dltList(ctx context.Context, args []string, out, stderr io.Writer) error {
	fs := newFlags("dlt list")
	var d dltFlags
	d.register(fs, 50)
	asJSON := fs.Bool("json", false, "print JSON")
	showProgress := fs.Bool("progress", false, "report how far the scan has read on stderr (the default when stderr is a terminal)")
	if err := parse(fs, args, out); err != nil {
		return err
	}
	f, err := d.filter()
	if err != nil {
		return err
	}
	p := newProgress(stderr, *showProgress, "reading "+d.topic)
	l, err := deadletter.List(ctx, d.brokerList(), d.topic, f, f.Limit, p.report)
	p.done()
	if err != nil {
		return err
	}
	var lp listPrinter = newTableList(out)
	if *asJSON {
		lp = &jsonList{w: out}
	}
	for _, r := range l.Records {
		if err := lp.print(r); err != nil {
			return err
		}
	}
	return lp.done(len(l.Records), l.Total, d.topic)
}

// progress reports how far a long scan has read, at most once a second,
// on a terminal (or when asked): a scan that ends within a second says
// nothing, and output piped or tested stays clean.
type progress struct {
	w        io.Writer
	on, tty  bool
	what     string
	started  time.Time
	last     time.Time
	reported bool
}

func newProgress(w io.Writer, asked bool, what string) *progress {
	tty := isTerminal(w)
	now := time.Now()
	return &progress{w: w, on: asked || tty, tty: tty, what: what, started: now, last: now}
}

func (p *progress) report(read, total int64) {
	if !p.on || time.Since(p.last) < time.Second {
		return
	}
	p.last, p.reported = time.Now(), true
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(read) / float64(total)
	}
	end := "\n"
	if p.tty {
		end = "\x1b[K\r"
	}
	fmt.Fprintf(p.w, "%s: %d of %d records (%.0f%%), %s%s", p.what, read, total, pct, time.Since(p.started).Round(time.Second), end)
}

// done ends the progress line on a terminal.
func (p *progress) done() {
	if p.reported && p.tty {
		fmt.Fprint(p.w, "\x1b[K")
	}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func dltReplay(ctx context.Context, args []string, out, progress io.Writer) error {
	fs := newFlags("dlt replay")
	var d dltFlags
	d.register(fs, 0)
	dryRun := fs.Bool("dry-run", false, "print what would be sent, send nothing")
	maxN := fs.Int("max", 0, "replay at most this many records (0: all selected)")
	rate := fs.Float64("rate", 50, "records per second at most")
	includePoison := fs.Bool("include-poison", false, "replay poison records too (they could not be read; skipped otherwise)")
	if err := parse(fs, args, out); err != nil {
		return err
	}
	f, err := d.filter()
	if err != nil {
		return err
	}
	if *rate <= 0 || *maxN < 0 {
		return fmt.Errorf("--rate must be positive and --max not negative")
	}
	if *maxN > 0 && (f.Limit == 0 || *maxN < f.Limit) {
		f.Limit = *maxN
	}
	r := deadletter.Replay{DryRun: *dryRun, IncludePoison: *includePoison, Rate: *rate, Out: out, Progress: progress}
	res, err := r.Run(ctx, d.brokerList(), d.topic, f)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, res.String(d.topic))
	return nil
}
