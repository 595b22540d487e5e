package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/cmd/sagactl/internal/deadletter"
	"github.com/purchase-saga/messaging/dlt"
)

// newFlags returns the flags of subcommand name. The flag package prints
// nothing itself: parse reports errors naming the flag, and prints the
// help when asked.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
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
	since              sinceFlag
	limit              int
	brokers            *string
}

func (d *dltFlags) register(fs *flag.FlagSet, defaultLimit int) {
	fs.StringVar(&d.topic, "topic", "", "dead-letter topic (stock.dlt, payment.dlt, order.dlt)")
	fs.StringVar(&d.reason, "reason", "", "only records with this dlt-reason (rejected, error, poison)")
	fs.StringVar(&d.key, "key", "", "only records with this key (order id)")
	fs.Var(&d.since, "since", "only records that failed within this long (90m, 1h, 7d) or since this time (RFC 3339)")
	fs.IntVar(&d.limit, "limit", defaultLimit, "at most this many records (0: all)")
	d.brokers = brokersFlag(fs)
}

func (d *dltFlags) filter() (dlt.Filter, error) {
	if d.topic == "" {
		return dlt.Filter{}, usageError("--topic is required")
	}
	switch d.reason {
	case "", dlt.ReasonRejected, dlt.ReasonError, dlt.ReasonPoison:
	default:
		return dlt.Filter{}, fmt.Errorf("--reason %q: want rejected, error or poison", d.reason)
	}
	if d.limit < 0 {
		return dlt.Filter{}, fmt.Errorf("--limit must not be negative")
	}
	return dlt.Filter{Reason: d.reason, Key: d.key, Limit: d.limit, Since: d.since.at}, nil
}

func (d *dltFlags) brokerList() []string { return broker.Split(*d.brokers) }

// parse reads args into fs. Asked for help (-h, --help), it prints the
// subcommand's usage and flags to out and returns errHelped; a bad flag is
// a usage error that names it.
func parse(fs *flag.FlagSet, args []string, out io.Writer) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(out, "%s\n\nflags:\n", strings.TrimSpace("usage: sagactl "+fs.Name()+" "+synopsis(fs.Name())))
		fs.SetOutput(out)
		fs.PrintDefaults()
		return errHelped
	}
	if err != nil {
		return usageError(err.Error())
	}
	if fs.NArg() > 0 {
		return usageError(fmt.Sprintf("unexpected arguments %q", fs.Args()))
	}
	return nil
}

// sinceFlag is --since: a time, given as how long ago (a Go duration, or
// days as 7d) or as an RFC 3339 time.
type sinceFlag struct{ at time.Time }

func (f *sinceFlag) String() string {
	if f.at.IsZero() {
		return ""
	}
	return f.at.Format(time.RFC3339)
}

func (f *sinceFlag) Set(s string) error {
	at, err := parseSince(s, time.Now())
	f.at = at
	return err
}

// parseSince reads --since relative to now.
func parseSince(s string, now time.Time) (time.Time, error) {
	return deadletter.ParseSince(s, now)
}
