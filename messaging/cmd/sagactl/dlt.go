package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/dlt"
	"github.com/purchase-saga/messaging/envelope"
)

// record is a dead letter as list shows it.
type record struct {
	Partition int               `json:"partition"`
	Offset    int64             `json:"offset"`
	Key       string            `json:"key"`
	Type      string            `json:"type"`
	Reason    string            `json:"reason"`
	Error     string            `json:"error"`
	Attempts  string            `json:"attempts"`
	FailedAt  string            `json:"failed_at"`
	Origin    string            `json:"origin"`
	Headers   map[string]string `json:"headers"`
	Value     json.RawMessage   `json:"value,omitempty"`
	RawValue  string            `json:"raw_value,omitempty"`
}

func toRecord(m kafka.Message) record {
	r := record{Partition: m.Partition, Offset: m.Offset, Key: string(m.Key), Type: dlt.Header(m, envelope.HeaderType),
		Reason: dlt.Header(m, dlt.HeaderReason), Error: dlt.Header(m, dlt.HeaderError), Attempts: dlt.Header(m, dlt.HeaderAttempts),
		FailedAt: dlt.Header(m, dlt.HeaderFailedAt), Headers: map[string]string{},
		Origin: dlt.Header(m, dlt.HeaderOriginalTopic) + "/" + dlt.Header(m, dlt.HeaderOriginalPartition) + "/" + dlt.Header(m, dlt.HeaderOriginalOffset)}
	for _, h := range m.Headers {
		r.Headers[h.Key] = string(h.Value)
	}
	if json.Valid(m.Value) {
		r.Value = m.Value
	} else {
		r.RawValue = string(m.Value)
	}
	return r
}

func dltList(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("dlt list")
	var d dltFlags
	d.register(fs, 50)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args, out); err != nil {
		return err
	}
	f, err := d.filter()
	if err != nil {
		return err
	}
	var p listPrinter = newTableList(out)
	if *asJSON {
		p = &jsonList{w: out}
	}
	// The scan goes on past the limit, counting, so that the table can say
	// how many records matched in all.
	limit := f.Limit
	f.Limit = 0
	n, total := 0, 0
	err = dlt.Scan(ctx, d.brokerList(), d.topic, f, func(m kafka.Message) error {
		if total++; limit > 0 && n >= limit {
			return nil
		}
		n++
		return p.print(toRecord(m))
	})
	if err != nil {
		return err
	}
	return p.done(n, total, d.topic)
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
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
	r := &replayer{out: out, progress: progress, verb: "would replay", lastProgress: time.Now(), includePoison: *includePoison,
		tick: time.NewTicker(time.Duration(float64(time.Second) / *rate))}
	defer r.tick.Stop()
	if !*dryRun {
		r.w, r.verb = broker.NewWriter(d.brokerList(), nil), "replayed"
		defer r.w.Close()
	}
	err = dlt.Scan(ctx, d.brokerList(), d.topic, f, func(m kafka.Message) error { return r.replay(ctx, m) })
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s %d record(s) from %s, skipped %d\n", r.verb, r.sent, d.topic, r.skipped)
	return nil
}

// replayer sends dead letters back as the scan reads them, at a bounded
// rate, and says what it sent (or, with no writer, would send).
type replayer struct {
	out, progress io.Writer
	w             *kafka.Writer // nil for a dry run
	verb          string
	tick          *time.Ticker
	sent, skipped int
	lastProgress  time.Time
	// includePoison replays poison records, after one warning; they are
	// skipped otherwise.
	includePoison, warned bool
}

func (r *replayer) replay(ctx context.Context, m kafka.Message) error {
	if dlt.Header(m, dlt.HeaderReason) == dlt.ReasonPoison {
		if !r.includePoison {
			r.skipped++
			fmt.Fprintf(r.out, "skipped %s/%d/%d key=%s: poison, which no consumer could read: replayed, it comes back here unless the consumer changed (--include-poison replays it)\n",
				m.Topic, m.Partition, m.Offset, m.Key)
			return nil
		}
		if !r.warned {
			fmt.Fprintln(r.progress, "warning: replaying poison records, which no consumer could read: they come back to the dead-letter topic unless the consumer changed")
			r.warned = true
		}
	}
	rec, err := dlt.Replay(m, time.Now())
	if errors.Is(err, dlt.ErrNotReplayable) {
		r.skipped++
		fmt.Fprintf(r.out, "skipped %s/%d/%d key=%s: %v\n", m.Topic, m.Partition, m.Offset, m.Key, err)
		return nil
	}
	if err != nil {
		return err
	}
	if r.w != nil {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.tick.C:
		}
		if err := r.w.WriteMessages(ctx, rec); err != nil {
			return fmt.Errorf("replay %s/%d/%d: %w (%d sent before it)", m.Topic, m.Partition, m.Offset, err, r.sent)
		}
	}
	r.sent++
	fmt.Fprintf(r.out, "%s %s/%d/%d -> %s key=%s type=%s message-id=%s\n", r.verb, m.Topic, m.Partition, m.Offset,
		rec.Topic, rec.Key, dlt.Header(rec, envelope.HeaderType), dlt.Header(rec, envelope.HeaderMessageID))
	if time.Since(r.lastProgress) >= time.Second {
		fmt.Fprintf(r.progress, "progress: %d sent, %d skipped\n", r.sent, r.skipped)
		r.lastProgress = time.Now()
	}
	return nil
}
