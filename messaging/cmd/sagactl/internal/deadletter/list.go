package deadletter

import (
	"container/heap"
	"context"
	"slices"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/dlt"
)

// Listing is what List found: the newest matching records, newest first,
// and how many records matched in all.
type Listing struct {
	Records []Record
	Total   int
}

// List reads topic to its end and returns the limit newest records that
// match f (every one when limit is 0), newest first by failure time. It
// holds no more than limit records (and one fetch per partition) at any
// time, whatever the topic's size: the scan streams, and a heap keeps the
// newest seen so far. f.Limit is ignored. progress, when not nil, hears
// how far the scan has read.
func List(ctx context.Context, brokers []string, topic string, f dlt.Filter, limit int, progress func(read, total int64)) (Listing, error) {
	f.Limit = 0
	var h newest
	total := 0
	err := dlt.ScanWindow(ctx, brokers, topic, f, dlt.Window{Progress: progress}, func(m kafka.Message) error {
		total++
		r := FromMessage(m)
		if limit > 0 && len(h) == limit {
			if !later(r, h[0]) {
				return nil
			}
			h[0] = r
			heap.Fix(&h, 0)
			return nil
		}
		heap.Push(&h, r)
		return nil
	})
	if err != nil {
		return Listing{}, err
	}
	out := []Record(h)
	slices.SortFunc(out, func(a, b Record) int {
		if later(a, b) {
			return -1
		}
		if later(b, a) {
			return 1
		}
		return 0
	})
	return Listing{Records: out, Total: total}, nil
}

// later orders records by failure time, then by place, so that the order
// is total and a listing stable.
func later(a, b Record) bool {
	if !a.At.Equal(b.At) {
		return a.At.After(b.At)
	}
	if a.Partition != b.Partition {
		return a.Partition > b.Partition
	}
	return a.Offset > b.Offset
}

// newest is a min-heap of records by failure time: its root is the
// oldest of the records kept, the first to give way to a newer one.
type newest []Record

func (h newest) Len() int           { return len(h) }
func (h newest) Less(i, j int) bool { return later(h[j], h[i]) }
func (h newest) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *newest) Push(x any)        { *h = append(*h, x.(Record)) }
func (h *newest) Pop() any {
	old := *h
	r := old[len(old)-1]
	*h = old[:len(old)-1]
	return r
}
