package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/dlt"
)

// dltSummary prints, for every dead-letter topic on the brokers (a name
// ending in .dlt), how many records it holds by reason and when the
// newest failed: where to look first.
func dltSummary(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("dlt summary")
	brokers := brokersFlag(fs)
	if err := parse(fs, args, out); err != nil {
		return err
	}
	addrs := broker.Split(*brokers)
	client := &kafka.Client{Addr: kafka.TCP(addrs...), Timeout: 10 * time.Second}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{})
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	var topics []string
	for _, t := range meta.Topics {
		if strings.HasSuffix(t.Name, ".dlt") {
			topics = append(topics, t.Name)
		}
	}
	slices.Sort(topics)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tRECORDS\tREJECTED\tERROR\tPOISON\tNEWEST FAILED AT")
	for _, topic := range topics {
		byReason, newest := map[string]int{}, ""
		n := 0
		err := dlt.Scan(ctx, addrs, topic, dlt.Filter{}, func(m kafka.Message) error {
			n++
			byReason[dlt.Header(m, dlt.HeaderReason)]++
			newest = max(newest, dlt.Header(m, dlt.HeaderFailedAt))
			return nil
		})
		if err != nil {
			return err
		}
		if newest == "" {
			newest = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\n", topic, n,
			byReason[dlt.ReasonRejected], byReason[dlt.ReasonError], byReason[dlt.ReasonPoison], newest)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%d dead-letter topic(s)\n", len(topics))
	return err
}
