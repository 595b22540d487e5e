package dlt

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/segmentio/kafka-go"
)

// Filter selects dead-letter records; zero fields select everything.
type Filter struct {
	// Reason matches dlt-reason.
	Reason string
	// Key matches the record key (the order id).
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

// Read returns the records of topic that match f, oldest first, reading
// every partition from its start to its current end without joining a
// consumer group (so it moves no one's offsets).
func Read(ctx context.Context, brokers []string, topic string, f Filter) ([]kafka.Message, error) {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("dlt: metadata: %w", err)
	}
	if len(meta.Topics) != 1 || meta.Topics[0].Error != nil {
		return nil, fmt.Errorf("dlt: topic %s not found", topic)
	}
	var out []kafka.Message
	for _, p := range meta.Topics[0].Partitions {
		msgs, err := readPartition(ctx, brokers, topic, p.ID, f)
		if err != nil {
			return nil, err
		}
		out = append(out, msgs...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

func readPartition(ctx context.Context, brokers []string, topic string, partition int, f Filter) ([]kafka.Message, error) {
	conn, err := kafka.DialLeader(ctx, "tcp", brokers[0], topic, partition)
	if err != nil {
		return nil, fmt.Errorf("dlt: dial %s/%d: %w", topic, partition, err)
	}
	defer conn.Close()
	first, last, err := conn.ReadOffsets()
	if err != nil {
		return nil, fmt.Errorf("dlt: offsets of %s/%d: %w", topic, partition, err)
	}
	if first >= last {
		return nil, nil
	}
	if _, err := conn.Seek(first, kafka.SeekAbsolute); err != nil {
		return nil, fmt.Errorf("dlt: seek %s/%d: %w", topic, partition, err)
	}
	var out []kafka.Message
	next := first
	for next < last {
		if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			return nil, err
		}
		batch := conn.ReadBatch(1, 16<<20)
		for {
			m, err := batch.ReadMessage()
			if err != nil {
				break
			}
			next = m.Offset + 1
			if f.Match(m) {
				out = append(out, m)
			}
		}
		if err := batch.Close(); err != nil {
			return nil, fmt.Errorf("dlt: read %s/%d: %w", topic, partition, err)
		}
	}
	return out, nil
}
