package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/dlt"
)

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func brokersFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("KAFKA_BROKERS")
	if def == "" {
		def = "127.0.0.1:9092"
	}
	return fs.String("brokers", def, "comma-separated Kafka brokers")
}

// dltFlags are the record filters shared by list and replay.
type dltFlags struct {
	topic, reason, key string
	since              time.Duration
	limit              int
	brokers            *string
}

func (d *dltFlags) register(fs *flag.FlagSet, defaultLimit int) {
	fs.StringVar(&d.topic, "topic", "", "dead-letter topic (stock.dlt, payment.dlt, order.dlt)")
	fs.StringVar(&d.reason, "reason", "", "only records with this dlt-reason (rejected, error, poison)")
	fs.StringVar(&d.key, "key", "", "only records with this key (order id)")
	fs.DurationVar(&d.since, "since", 0, "only records that failed within this long (e.g. 1h)")
	fs.IntVar(&d.limit, "limit", defaultLimit, "at most this many records (0: all)")
	d.brokers = brokersFlag(fs)
}

func (d *dltFlags) filter() (dlt.Filter, error) {
	if d.topic == "" {
		return dlt.Filter{}, fmt.Errorf("--topic is required: %w", errUsage)
	}
	switch d.reason {
	case "", dlt.ReasonRejected, dlt.ReasonError, dlt.ReasonPoison:
	default:
		return dlt.Filter{}, fmt.Errorf("--reason %q: want rejected, error or poison", d.reason)
	}
	if d.limit < 0 || d.since < 0 {
		return dlt.Filter{}, fmt.Errorf("--limit and --since must not be negative")
	}
	f := dlt.Filter{Reason: d.reason, Key: d.key, Limit: d.limit}
	if d.since > 0 {
		f.Since = time.Now().Add(-d.since)
	}
	return f, nil
}

func (d *dltFlags) brokerList() []string { return broker.Split(*d.brokers) }

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: %w", fs.Args(), errUsage)
	}
	return nil
}
