package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
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
	if err := parse(fs, args); err != nil {
		return err
	}
	f, err := d.filter()
	if err != nil {
		return err
	}
	msgs, err := dlt.Read(ctx, d.brokerList(), d.topic, f)
	if err != nil {
		return err
	}
	if *asJSON {
		recs := make([]record, len(msgs))
		for i, m := range msgs {
			recs[i] = toRecord(m)
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(recs)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FAILED AT\tPARTITION/OFFSET\tKEY\tTYPE\tREASON\tATTEMPTS\tORIGIN\tERROR")
	for _, m := range msgs {
		r := toRecord(m)
		fmt.Fprintf(tw, "%s\t%d/%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.FailedAt, r.Partition, r.Offset, r.Key, r.Type, r.Reason, r.Attempts, r.Origin, shorten(r.Error, 80))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d record(s) on %s\n", len(msgs), d.topic)
	return nil
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
	if err := parse(fs, args); err != nil {
		return err
	}
	f, err := d.filter()
	if err != nil {
		return err
	}
	if *rate <= 0 || *maxN < 0 {
		return fmt.Errorf("--rate must be positive and --max not negative")
	}
	msgs, err := dlt.Read(ctx, d.brokerList(), d.topic, f)
	if err != nil {
		return err
	}
	if *maxN > 0 && len(msgs) > *maxN {
		msgs = msgs[:*maxN]
	}
	var w *kafka.Writer
	if !*dryRun {
		w = broker.NewWriter(d.brokerList(), nil)
		defer w.Close()
	}
	verb := "replayed"
	if *dryRun {
		verb = "would replay"
	}
	tick := time.NewTicker(time.Duration(float64(time.Second) / *rate))
	defer tick.Stop()
	sent, skipped := 0, 0
	lastProgress := time.Now()
	for i, m := range msgs {
		rec, err := dlt.Replay(m, time.Now())
		if errors.Is(err, dlt.ErrNotReplayable) {
			skipped++
			fmt.Fprintf(out, "skipped %s/%d/%d key=%s: %v\n", m.Topic, m.Partition, m.Offset, m.Key, err)
			continue
		}
		if err != nil {
			return err
		}
		if !*dryRun {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
			}
			if err := w.WriteMessages(ctx, rec); err != nil {
				return fmt.Errorf("replay %s/%d/%d: %w (%d sent before it)", m.Topic, m.Partition, m.Offset, err, sent)
			}
		}
		sent++
		fmt.Fprintf(out, "%s %s/%d/%d -> %s key=%s type=%s message-id=%s\n", verb, m.Topic, m.Partition, m.Offset,
			rec.Topic, rec.Key, dlt.Header(rec, envelope.HeaderType), dlt.Header(rec, envelope.HeaderMessageID))
		if time.Since(lastProgress) >= time.Second {
			fmt.Fprintf(progress, "progress: %d/%d\n", i+1, len(msgs))
			lastProgress = time.Now()
		}
	}
	fmt.Fprintf(out, "%s %d record(s) from %s, skipped %d\n", verb, sent, d.topic, skipped)
	return nil
}
