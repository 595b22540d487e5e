package dlt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/segmentio/kafka-go"
)

// scanner merges the partitions of a topic by record time, fetching a
// partition again only once what it fetched last was delivered.
type scanner struct {
	client   *kafka.Client
	topic    string
	filter   Filter
	maxBytes int
	cursors  []*cursor
	fetches  int // fetch requests sent: tests check Scan reads no further than it needs
	progress func(read, total int64)
	// read and total count the records read and to read, for progress.
	read, total int64
}

// cursor is where a scan stands in one partition.
type cursor struct {
	partition int
	next, end int64           // next offset to fetch; the end captured at start
	buf       []kafka.Message // matching records fetched and not yet delivered
}

// newScanner captures the start and end offsets of the partitions of topic
// that w selects.
func newScanner(ctx context.Context, brokers []string, topic string, f Filter, w Window, maxBytes int) (*scanner, error) {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("dlt: metadata: %w", err)
	}
	if len(meta.Topics) != 1 || meta.Topics[0].Error != nil {
		return nil, fmt.Errorf("dlt: topic %s not found", topic)
	}
	var req []kafka.OffsetRequest
	for _, p := range meta.Topics[0].Partitions {
		if len(w.Partitions) == 0 || slices.Contains(w.Partitions, p.ID) {
			req = append(req, kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
		}
	}
	offsets, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: req}})
	if err != nil {
		return nil, fmt.Errorf("dlt: offsets of %s: %w", topic, err)
	}
	from, err := startsAt(ctx, client, topic, req, w.From)
	if err != nil {
		return nil, err
	}
	s := &scanner{client: client, topic: topic, filter: f, maxBytes: maxBytes, progress: w.Progress}
	for _, p := range offsets.Topics[topic] {
		if p.Error != nil {
			return nil, fmt.Errorf("dlt: offsets of %s/%d: %w", topic, p.Partition, p.Error)
		}
		first := p.FirstOffset
		if at, ok := from[p.Partition]; ok {
			first = max(first, min(at, p.LastOffset))
		}
		if first < p.LastOffset {
			s.cursors = append(s.cursors, &cursor{partition: p.Partition, next: first, end: p.LastOffset})
			s.total += p.LastOffset - first
		}
	}
	return s, nil
}

// startsAt returns, for each partition of req, the offset of its first
// record at or after from (its end when it has none); nothing when from
// is zero.
func startsAt(ctx context.Context, client *kafka.Client, topic string, req []kafka.OffsetRequest, from time.Time) (map[int]int64, error) {
	out := map[int]int64{}
	if from.IsZero() {
		return out, nil
	}
	var byTime []kafka.OffsetRequest
	for _, r := range req {
		if r.Timestamp == kafka.FirstOffset {
			byTime = append(byTime, kafka.TimeOffsetOf(r.Partition, from))
		}
	}
	res, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: byTime}})
	if err != nil {
		return nil, fmt.Errorf("dlt: offsets of %s at %s: %w", topic, from.Format(time.RFC3339), err)
	}
	for _, p := range res.Topics[topic] {
		if p.Error != nil {
			return nil, fmt.Errorf("dlt: offsets of %s/%d at %s: %w", topic, p.Partition, from.Format(time.RFC3339), p.Error)
		}
		for off := range p.Offsets {
			if off >= 0 {
				out[p.Partition] = off
			}
		}
		if _, ok := out[p.Partition]; !ok { // no record since then
			out[p.Partition] = math.MaxInt64
		}
	}
	return out, nil
}

// run delivers the matching records to fn, oldest first.
func (s *scanner) run(ctx context.Context, fn func(kafka.Message) error) error {
	for n := 0; s.filter.Limit == 0 || n < s.filter.Limit; n++ {
		c, err := s.oldest(ctx)
		if err != nil || c == nil {
			return err
		}
		m := c.buf[0]
		c.buf[0] = kafka.Message{}
		c.buf = c.buf[1:]
		if err := fn(m); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// oldest returns the cursor whose next matching record is the oldest
// (the lowest partition on a tie), or nil when every partition is done.
func (s *scanner) oldest(ctx context.Context) (*cursor, error) {
	var best *cursor
	for _, c := range s.cursors {
		if err := s.fill(ctx, c); err != nil {
			return nil, err
		}
		if len(c.buf) > 0 && (best == nil || c.buf[0].Time.Before(best.buf[0].Time)) {
			best = c
		}
	}
	return best, nil
}

// fill fetches until c holds a matching record or reaches its end.
func (s *scanner) fill(ctx context.Context, c *cursor) error {
	for len(c.buf) == 0 && c.next < c.end {
		if err := ctx.Err(); err != nil {
			return err
		}
		before := c.next
		if err := s.fetch(ctx, c); err != nil {
			return err
		}
		if c.next == before {
			return fmt.Errorf("dlt: no record at %s/%d offset %d (end %d)", s.topic, c.partition, c.next, c.end)
		}
	}
	return nil
}

// fetch reads one fetch of c's partition from c.next, keeping the records
// below c.end that match the filter.
func (s *scanner) fetch(ctx context.Context, c *cursor) error {
	s.fetches++
	res, err := s.client.Fetch(ctx, &kafka.FetchRequest{Topic: s.topic, Partition: c.partition, Offset: c.next,
		MinBytes: 1, MaxBytes: int64(s.maxBytes), MaxWait: time.Second})
	if err == nil {
		err = res.Error
	}
	if err != nil {
		return fmt.Errorf("dlt: fetch %s/%d at %d: %w", s.topic, c.partition, c.next, err)
	}
	if res.LogStartOffset > c.next { // deleted by retention since the scan began
		s.read += min(res.LogStartOffset, c.end) - c.next
		c.next = res.LogStartOffset
	}
	if s.progress != nil {
		defer func() { s.progress(s.read, s.total) }()
	}
	for c.next < c.end {
		r, err := res.Records.ReadRecord()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("dlt: read %s/%d at %d: %w", s.topic, c.partition, c.next, err)
		}
		if r.Offset < c.next { // a batch may start before the offset asked for
			continue
		}
		m, err := s.message(c.partition, r)
		if err != nil {
			return err
		}
		s.read += r.Offset + 1 - c.next
		c.next = r.Offset + 1
		if s.filter.Match(m) {
			c.buf = append(c.buf, m)
		}
	}
	return nil
}

// message copies a fetched record out of the fetch's buffers.
func (s *scanner) message(partition int, r *kafka.Record) (kafka.Message, error) {
	m := kafka.Message{Topic: s.topic, Partition: partition, Offset: r.Offset, Time: r.Time}
	var err error
	if m.Key, err = readBytes(r.Key); err == nil {
		m.Value, err = readBytes(r.Value)
	}
	if err != nil {
		return m, fmt.Errorf("dlt: read %s/%d/%d: %w", s.topic, partition, r.Offset, err)
	}
	for _, h := range r.Headers {
		m.Headers = append(m.Headers, kafka.Header{Key: h.Key, Value: append([]byte(nil), h.Value...)})
	}
	return m, nil
}

func readBytes(b kafka.Bytes) ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	defer b.Close()
	return io.ReadAll(b)
}
