package deadletter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/dlt"
	"github.com/purchase-saga/messaging/envelope"
)

// Replay says how to replay dead letters.
type Replay struct {
	// DryRun sends nothing and says what would be sent.
	DryRun bool
	// IncludePoison replays poison records too, after one warning; they
	// are skipped otherwise (no consumer could read them).
	IncludePoison bool
	// Rate bounds the records sent per second (50 when not positive).
	Rate float64
	// Out hears a line per record sent (or that would be sent) or skipped.
	Out io.Writer
	// Progress hears the warning and, every second, how far a replay is.
	Progress io.Writer
}

// Result is what a replay did.
type Result struct {
	// Verb is "replayed", or "would replay" for a dry run.
	Verb          string
	Sent, Skipped int
}

// String says what the replay did, as its last line.
func (r Result) String(topic string) string {
	return fmt.Sprintf("%s %d record(s) from %s, skipped %d", r.Verb, r.Sent, topic, r.Skipped)
}

// Run replays the records of topic that f selects (oldest first, at most
// f.Limit), each to its dlt-original-topic with a fresh message id and
// replay-of, as the scan reads them.
func (o Replay) Run(ctx context.Context, brokers []string, topic string, f dlt.Filter) (Result, error) {
	if o.Rate <= 0 {
		o.Rate = 50
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	r := &replayer{Replay: o, res: Result{Verb: "would replay"}, lastProgress: time.Now(),
		tick: time.NewTicker(time.Duration(float64(time.Second) / o.Rate))}
	defer r.tick.Stop()
	if !o.DryRun {
		r.w, r.res.Verb = broker.NewWriter(brokers, nil), "replayed"
		defer r.w.Close()
	}
	err := dlt.Scan(ctx, brokers, topic, f, func(m kafka.Message) error { return r.replay(ctx, m) })
	return r.res, err
}

// replayer sends dead letters back as the scan reads them, at a bounded
// rate, and says what it sent (or, with no writer, would send).
type replayer struct {
	Replay
	w            *kafka.Writer // nil for a dry run
	tick         *time.Ticker
	res          Result
	lastProgress time.Time
	warned       bool
}

func (r *replayer) replay(ctx context.Context, m kafka.Message) error {
	if dlt.Header(m, dlt.HeaderReason) == dlt.ReasonPoison {
		if !r.IncludePoison {
			r.res.Skipped++
			fmt.Fprintf(r.Out, "skipped %s/%d/%d key=%s: poison, which no consumer could read: replayed, it comes back here unless the consumer changed (--include-poison replays it)\n",
				m.Topic, m.Partition, m.Offset, m.Key)
			return nil
		}
		if !r.warned {
			fmt.Fprintln(r.Progress, "warning: replaying poison records, which no consumer could read: they come back to the dead-letter topic unless the consumer changed")
			r.warned = true
		}
	}
	rec, err := dlt.Replay(m, time.Now())
	if errors.Is(err, dlt.ErrNotReplayable) {
		r.res.Skipped++
		fmt.Fprintf(r.Out, "skipped %s/%d/%d key=%s: %v\n", m.Topic, m.Partition, m.Offset, m.Key, err)
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
			return fmt.Errorf("replay %s/%d/%d: %w (%d sent before it)", m.Topic, m.Partition, m.Offset, err, r.res.Sent)
		}
	}
	r.res.Sent++
	fmt.Fprintf(r.Out, "%s %s/%d/%d -> %s key=%s type=%s message-id=%s\n", r.res.Verb, m.Topic, m.Partition, m.Offset,
		rec.Topic, rec.Key, dlt.Header(rec, envelope.HeaderType), dlt.Header(rec, envelope.HeaderMessageID))
	if time.Since(r.lastProgress) >= time.Second {
		fmt.Fprintf(r.Progress, "progress: %d sent, %d skipped\n", r.res.Sent, r.res.Skipped)
		r.lastProgress = time.Now()
	}
	return nil
}
