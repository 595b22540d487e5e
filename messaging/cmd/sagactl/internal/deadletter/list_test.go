package deadletter

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/dlt"
	"github.com/purchase-saga/messaging/testbroker"
)

// List keeps the newest records by failure time, whatever order the
// partitions hold them in, and counts every match.
func TestListReturnsTheNewestFirstAndCountsAll(t *testing.T) {
	b := testbroker.New(t, 3, "x.dlt")
	w := broker.NewWriter(b.Addrs, nil)
	defer w.Close()
	base := time.Now().Add(-time.Hour)
	var msgs []kafka.Message
	for _, i := range rand.Perm(30) { // written out of failure order
		f := dlt.Failure{Reason: dlt.ReasonError, At: base.Add(time.Duration(i) * time.Second), Origin: dlt.Origin{Topic: "x"}}
		msgs = append(msgs, dlt.Record("x.dlt", kafka.Message{Key: []byte(fmt.Sprintf("o%02d", i))}, f))
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{5, 0} {
		l, err := List(context.Background(), b.Addrs, "x.dlt", dlt.Filter{Limit: 1}, limit, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := limit
		if limit == 0 {
			want = 30
		}
		if len(l.Records) != want || l.Total != 30 {
			t.Fatalf("limit %d: %d records of %d, want %d of 30", limit, len(l.Records), l.Total, want)
		}
		for i, r := range l.Records {
			if got, want := r.Key, fmt.Sprintf("o%02d", 29-i); got != want {
				t.Errorf("limit %d: record %d is %s, want %s (the newest first)", limit, i, got, want)
			}
		}
	}
}
