package dlt

import (
	"context"
	"errors"
	"time"

	"github.com/segmentio/kafka-go"
)

// Filter selects dead-letter records; zero fields select everything.
type Filter struct {
	// Reason matches dlt-reason.
	Reason string
	// Key matches the record key (the saga id).
	Key string
	// Since keeps records that failed at or after this time.
	Since time.Time
	// Limit bounds how many records are returned (0: no bound).
	Limit int
}

// Match reports whether m passes f (Limit aside).
func (f Filter) Match(m kafka.Message) bool {
	if f.Reason != "" && Header(m, HeaderReason) != f.Reason {
		return false
	}
	if f.Key != "" && string(m.Key) != f.Key {
		return false
	}
	if !f.Since.IsZero() {
		at, err := time.Parse(time.RFC3339Nano, Header(m, HeaderFailedAt))
		if err != nil {
			at = m.Time
		}
		if at.Before(f.Since) {
			return false
		}
	}
	return true
}

// ErrStop, returned by Scan's callback, ends the scan without an error.
var ErrStop = errors.New("dlt: stop scanning")

// fetchBytes bounds one fetch, and so what Scan holds per partition (a
// single record larger than that still comes whole).
const fetchBytes = 1 << 20

// Scan calls fn with each record of topic that matches f, oldest first
// across partitions, reading every partition from its start up to the end
// it had when Scan began (later records are left for the next run),
// without joining a consumer group (so it moves no one's offsets). It
// holds at most one fetch per partition, and stops after f.Limit records,
// at the first error fn returns (ErrStop: no error), or when ctx ends.
func Scan(ctx context.Context, brokers []string, topic string, f Filter, fn func(kafka.Message) error) error {
	return ScanWindow(ctx, brokers, topic, f, Window{}, fn)
}

// Window narrows what a scan reads, and watches it; the zero Window reads
// every partition from its start.
type Window struct {
	// From starts each partition at its first record written at or after
	// this time (by record timestamp), instead of at its start.
	From time.Time
	// Partitions, when not empty, are the only partitions read.
	Partitions []int
	// Progress, when set, is called after each fetch with the records
	// read so far (matching or not) and the records the scan has to read
	// in all.
	Progress func(read, total int64)
}

// ScanWindow is Scan over the part of topic that w selects.
func ScanWindow(ctx context.Context, brokers []string, topic string, f Filter, w Window, fn func(kafka.Message) error) error {
	s, err := newScanner(ctx, brokers, topic, f, w, fetchBytes)
	if err != nil {
		return err
	}
	return s.run(ctx, fn)
}

// Read returns what Scan delivers, all at once: for topics known to be
// small, or with a Limit.
func Read(ctx context.Context, brokers []string, topic string, f Filter) ([]kafka.Message, error) {
	var out []kafka.Message
	err := Scan(ctx, brokers, topic, f, func(m kafka.Message) error {
		out = append(out, m)
		return nil
	})
	return out, err
}
