package timeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/cmd/sagactl/internal/deadletter"
	"github.com/purchase-saga/messaging/dlt"
	"github.com/purchase-saga/messaging/envelope"
)

// errCut ends a topic's scan that reached Sources.MaxRecords.
var errCut = errors.New("scan cut")

// loadRecords adds the records keyed by the order id on the saga's topics.
// Records are placed by key (Murmur2, as every producer here places them),
// so only the key's partition is read, from a little before the order was
// placed (or, without the order row, the time in its UUIDv7 id) to the
// end, at most MaxRecords of it per topic.
func (tl *Timeline) loadRecords(ctx context.Context, src Sources, published map[string]string) error {
	if len(src.Brokers) == 0 {
		return tl.note(ctx, "no brokers given: the records on the topics and the dead letters are not shown")
	}
	topics := src.Topics
	if len(topics) == 0 {
		topics = sagaTopics()
	}
	client := &kafka.Client{Addr: kafka.TCP(src.Brokers...), Timeout: 10 * time.Second}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return tl.note(ctx, "broker: %v: the records on the topics and the dead letters are not shown", err)
	}
	partitions := map[string]int{}
	for _, t := range meta.Topics {
		if t.Error == nil {
			partitions[t.Name] = len(t.Partitions)
		}
	}
	from := tl.scanFrom(src.Before)
	maxRecords := src.MaxRecords
	if maxRecords <= 0 {
		maxRecords = 100_000
	}
	for _, t := range topics {
		n := partitions[t]
		if n == 0 {
			if err := tl.note(ctx, "topic %s: not on the broker", t); err != nil {
				return err
			}
			continue
		}
		if err := tl.scanTopic(ctx, src.Brokers, t, n, from, maxRecords, published); err != nil {
			return err
		}
	}
	return nil
}

// scanFrom is where the scans start: before the order was placed.
func (tl *Timeline) scanFrom(before time.Duration) time.Time {
	if before <= 0 {
		before = time.Minute
	}
	if tl.Order != nil {
		return tl.Order.CreatedAt.Add(-before)
	}
	if id, err := uuid.Parse(tl.OrderID); err == nil && id.Version() == 7 {
		sec, nsec := id.Time().UnixTime()
		return time.Unix(sec, nsec).Add(-before)
	}
	return time.Time{}
}

func (tl *Timeline) scanTopic(ctx context.Context, brokers []string, t string, partitions int, from time.Time, maxRecords int64, published map[string]string) error {
	all := make([]int, partitions)
	for i := range all {
		all[i] = i
	}
	p := (&kafka.Murmur2Balancer{}).Balance(kafka.Message{Key: []byte(tl.OrderID)}, all...)
	scanCtx, cut := context.WithCancelCause(ctx)
	defer cut(nil)
	w := dlt.Window{From: from, Partitions: []int{p}, Progress: func(read, _ int64) {
		if read >= maxRecords {
			cut(errCut)
		}
	}}
	err := dlt.ScanWindow(scanCtx, brokers, t, dlt.Filter{Key: tl.OrderID}, w, func(m kafka.Message) error {
		tl.addRecord(m, published)
		return nil
	})
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(context.Cause(scanCtx), errCut):
		return tl.note(ctx, "topic %s: read %d records of partition %d from %s and stopped there: later records are not shown",
			t, maxRecords, p, from.UTC().Format(TimeFormat))
	case err != nil:
		return tl.note(ctx, "topic %s: %v", t, err)
	}
	return nil
}

func (tl *Timeline) addRecord(m kafka.Message, published map[string]string) {
	where := dlt.Origin{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}.String()
	id := dlt.Header(m, envelope.HeaderMessageID)
	tl.sawTraceparent(dlt.Header(m, envelope.HeaderTraceparent))
	if id != "" && published[id] == "" {
		published[id] = where
	}
	if strings.HasSuffix(m.Topic, ".dlt") {
		r := deadletter.FromMessage(m)
		detail := fmt.Sprintf("%s from %s by %s, %s attempt(s): %s", r.Reason, r.Origin, r.Service, r.Attempts, r.Error)
		tl.Events = append(tl.Events, Event{At: r.At, Kind: KindDeadLetter, Source: "dead letter", Where: where, What: r.Type,
			Detail: detail, MessageID: id, Topic: m.Topic})
		return
	}
	detail := "message-id " + id
	if of := dlt.Header(m, dlt.HeaderReplayOf); of != "" {
		detail = fmt.Sprintf("replay of %s at %s, %s", of, dlt.Header(m, dlt.HeaderReplayedAt), detail)
	}
	tl.Events = append(tl.Events, Event{At: m.Time, Kind: KindRecord, Source: "topic", Where: where,
		What: dlt.Header(m, envelope.HeaderType), Detail: detail, MessageID: id})
}
