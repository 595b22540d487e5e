package lag

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/testbroker"
	"github.com/purchase-saga/messaging/testdb"
	"github.com/purchase-saga/migrations"
)

// A group lags by the records after its commits, and by every record of
// a partition it has not committed on; an outbox is read.
func TestLagIsTheEndsLessTheCommittedOffsets(t *testing.T) {
	ctx := context.Background()
	b := testbroker.New(t, 2, "stock")
	w := broker.NewWriter(b.Addrs, nil)
	defer w.Close()
	for i := range 5 {
		if err := w.WriteMessages(ctx, kafka.Message{Topic: "stock", Key: []byte{byte('a' + i)}, Value: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: b.Addrs, GroupID: "stock-service", Topic: "stock", SessionTimeout: time.Second, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	var last kafka.Message
	for range 3 {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		last = m
	}
	if err := r.CommitMessages(ctx, last); err != nil {
		t.Fatal(err)
	}
	db := testdb.New(t, migrations.For(migrations.Stock))
	rep := Read(ctx, map[string]*pgxpool.Pool{"stock": db.Pool}, []string{"order", "stock"}, b.Addrs)
	if len(rep.Notes) != 0 {
		t.Fatalf("notes %v", rep.Notes)
	}
	if len(rep.Outboxes) != 1 || rep.Outboxes[0].Database != "stock" || rep.Outboxes[0].Unpublished != 0 {
		t.Errorf("outboxes %+v, want stock's, empty", rep.Outboxes)
	}
	if len(rep.Groups) != 1 {
		t.Fatalf("groups %+v, want stock-service", rep.Groups)
	}
	g := rep.Groups[0]
	// kafka-go committed the offset after the last message fetched, in its
	// partition: of the five records, those of the other partition and
	// those after it in its own lag.
	if g.Service != "stock-service" || len(g.Topics) != 1 || g.Topics[0].End != 5 || g.Topics[0].Partitions != 2 {
		t.Fatalf("group %+v, want stock-service on stock's 2 partitions, 5 records", g)
	}
	if got, want := g.Lag, 5-(last.Offset+1); got != want || g.Topics[0].Committed != last.Offset+1 {
		t.Errorf("group %+v, want committed %d and lag %d", g, last.Offset+1, want)
	}
	if got := ServiceOf("payment-service-compensation"); got != "payment-service" {
		t.Errorf("ServiceOf = %q", got)
	}
}
