package service

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// offsetsEvery is how often a service reads its consumer groups' offsets
// and its dead-letter topics' watermarks from the broker (Service.offsetsEvery
// when set): three requests a round whatever the scrape rate.
const offsetsEvery = 5 * time.Second

// partitionLag is a consumer group's lag on one partition: the records
// between its committed offset (the log's start when it has committed
// none: the groups start at the earliest offset) and the high watermark.
type partitionLag struct {
	group, topic string
	partition    int
	lag          int64
}

// offsetsPoller reads, every offsetsEvery, how far behind the service's
// consumer groups are and how many records its dead-letter topics hold,
// so that scrapes report the last figures without asking the broker.
type offsetsPoller struct {
	brokers []string
	// groups are the topics each consumer group of the service reads.
	groups map[string][]string
	// deadLetters are the dead-letter topics the service writes.
	deadLetters []string
	log         *slog.Logger

	mu     sync.Mutex
	polled bool
	lags   []partitionLag
	depth  map[string]int64
	failed bool
}

// run polls at once and then every interval until ctx ends.
func (p *offsetsPoller) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		p.pollOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pollOnce reads the figures, keeping the last ones when the broker does
// not answer (and saying so once, not every round).
func (p *offsetsPoller) pollOnce(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	lags, depth, err := p.read(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if !p.failed && ctx.Err() == nil {
			p.log.Warn("consumer lag and dead-letter depth not read", "err", err)
		}
		p.failed = true
		return
	}
	p.failed, p.polled, p.lags, p.depth = false, true, lags, depth
}

// last returns the figures of the last successful poll; ok is false
// before the first.
func (p *offsetsPoller) last() (lags []partitionLag, depth map[string]int64, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lags, p.depth, p.polled
}

func (p *offsetsPoller) read(ctx context.Context) ([]partitionLag, map[string]int64, error) {
	client := &kafka.Client{Addr: kafka.TCP(p.brokers...), Timeout: 3 * time.Second}
	topics := slices.Clone(p.deadLetters)
	for _, ts := range p.groups {
		topics = append(topics, ts...)
	}
	slices.Sort(topics)
	topics = slices.Compact(topics)
	if len(topics) == 0 {
		return nil, map[string]int64{}, nil
	}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return nil, nil, fmt.Errorf("metadata: %w", err)
	}
	partitions := map[string][]int{}
	offsetReq := map[string][]kafka.OffsetRequest{}
	for _, t := range meta.Topics {
		if t.Error != nil {
			continue // not created yet (the service creates its topics at start): no figure
		}
		for _, part := range t.Partitions {
			partitions[t.Name] = append(partitions[t.Name], part.ID)
			offsetReq[t.Name] = append(offsetReq[t.Name], kafka.FirstOffsetOf(part.ID), kafka.LastOffsetOf(part.ID))
		}
	}
	offsets, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: offsetReq})
	if err != nil {
		return nil, nil, fmt.Errorf("list offsets: %w", err)
	}
	marks := map[string]map[int]kafka.PartitionOffsets{}
	for t, ps := range offsets.Topics {
		marks[t] = map[int]kafka.PartitionOffsets{}
		for _, po := range ps {
			if po.Error != nil {
				return nil, nil, fmt.Errorf("offsets of %s/%d: %w", t, po.Partition, po.Error)
			}
			marks[t][po.Partition] = po
		}
	}
	depth := map[string]int64{}
	for _, t := range p.deadLetters {
		if _, ok := marks[t]; !ok {
			continue
		}
		depth[t] = 0
		for _, po := range marks[t] {
			depth[t] += po.LastOffset - po.FirstOffset
		}
	}
	var lags []partitionLag
	for _, group := range slices.Sorted(maps.Keys(p.groups)) {
		gl, err := groupLag(ctx, client, group, p.groups[group], partitions, marks)
		if err != nil {
			return nil, nil, err
		}
		lags = append(lags, gl...)
	}
	return lags, depth, nil
}

// groupLag is group's lag on every partition of topics.
func groupLag(ctx context.Context, client *kafka.Client, group string, topics []string,
	partitions map[string][]int, marks map[string]map[int]kafka.PartitionOffsets) ([]partitionLag, error) {
	req := &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{}}
	for _, t := range topics {
		if len(partitions[t]) > 0 {
			req.Topics[t] = partitions[t]
		}
	}
	if len(req.Topics) == 0 {
		return nil, nil
	}
	res, err := client.OffsetFetch(ctx, req)
	if err == nil {
		err = res.Error
	}
	if err != nil {
		return nil, fmt.Errorf("committed offsets of group %s: %w", group, err)
	}
	committed := map[string]map[int]int64{}
	for t, ps := range res.Topics {
		committed[t] = map[int]int64{}
		for _, p := range ps {
			if p.Error == nil {
				committed[t][p.Partition] = p.CommittedOffset
			}
		}
	}
	var out []partitionLag
	for _, t := range topics {
		for _, part := range partitions[t] {
			m := marks[t][part]
			from, ok := committed[t][part]
			if !ok || from < m.FirstOffset {
				from = m.FirstOffset // none committed (-1), or records since deleted
			}
			out = append(out, partitionLag{group: group, topic: t, partition: part, lag: max(m.LastOffset-from, 0)})
		}
	}
	return out, nil
}
