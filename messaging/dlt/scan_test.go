package dlt

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/testbroker"
)

// deadLetters writes n dead letters of about 1 KiB to topic, one record
// batch each (so that a small fetch holds a few), their times a
// millisecond apart from start, and returns them.
func deadLetters(t *testing.T, b *testbroker.Broker, topic string, n int, start time.Time) []kafka.Message {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(b.Addrs...), Topic: topic, Balancer: &kafka.Murmur2Balancer{},
		BatchSize: 1, BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: []byte(fmt.Sprintf("o%d", i)), Value: []byte(strings.Repeat("x", 1<<10)),
			Time: start.Add(time.Duration(i) * time.Millisecond), Headers: []kafka.Header{{Key: HeaderReason, Value: []byte(ReasonError)}}}
	}
	for i := 0; i < n; i += 50 {
		if err := w.WriteMessages(context.Background(), msgs[i:min(i+50, n)]...); err != nil {
			t.Fatal(err)
		}
	}
	return msgs
}

func newTestScanner(t *testing.T, b *testbroker.Broker, topic string, f Filter) *scanner {
	t.Helper()
	s, err := newScanner(context.Background(), b.Addrs, topic, f, Window{}, 4<<10)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestScanHoldsOneFetchAndDeliversBeforeReadingOn(t *testing.T) {
	t.Parallel()
	b := testbroker.New(t, 1, "commands.dlt")
	const n = 200
	deadLetters(t, b, "commands.dlt", n, time.Now())
	s := newTestScanner(t, b, "commands.dlt", Filter{})
	delivered, fetchesAtFirst, maxHeld := 0, 0, 0
	err := s.run(context.Background(), func(kafka.Message) error {
		if delivered++; delivered == 1 {
			fetchesAtFirst = s.fetches
		}
		maxHeld = max(maxHeld, len(s.cursors[0].buf)+1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := delivered, n; got != want {
		t.Errorf("delivered %d records, want %d", got, want)
	}
	if got, want := fetchesAtFirst, 1; got != want {
		t.Errorf("the first record came after %d fetches, want %d", got, want)
	}
	if maxHeld > 16 {
		t.Errorf("held %d records at once, want at most one small fetch (16)", maxHeld)
	}
}

func TestScanStopsAfterTheLimitWithoutReadingFurther(t *testing.T) {
	t.Parallel()
	b := testbroker.New(t, 1, "commands.dlt")
	deadLetters(t, b, "commands.dlt", 200, time.Now())
	s := newTestScanner(t, b, "commands.dlt", Filter{Reason: ReasonError, Limit: 3})
	var keys []string
	err := s.run(context.Background(), func(m kafka.Message) error {
		keys = append(keys, string(m.Key))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(keys, ","), "o0,o1,o2"; got != want {
		t.Errorf("delivered %s, want %s", got, want)
	}
	if c := s.cursors[0]; s.fetches > 2 || c.next >= c.end {
		t.Errorf("%d fetches, stopped at offset %d of %d: want the scan to stop soon after the limit", s.fetches, c.next, c.end)
	}
}

func TestScanStopsOnErrStopAndAtTheEndItFound(t *testing.T) {
	t.Parallel()
	b := testbroker.New(t, 1, "commands.dlt")
	deadLetters(t, b, "commands.dlt", 5, time.Now())
	n := 0
	err := Scan(context.Background(), b.Addrs, "commands.dlt", Filter{}, func(kafka.Message) error {
		if n++; n == 1 { // a dead letter that arrives during the scan is left for the next one
			deadLetters(t, b, "commands.dlt", 1, time.Now())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n, 5; got != want {
		t.Errorf("delivered %d records, want the %d there when the scan began", got, want)
	}
	n = 0
	err = Scan(context.Background(), b.Addrs, "commands.dlt", Filter{}, func(kafka.Message) error {
		if n++; n == 2 {
			return ErrStop
		}
		return nil
	})
	if err != nil || n != 2 {
		t.Errorf("ErrStop at the second record: %d delivered, err %v; want 2, nil", n, err)
	}
	boom := errors.New("boom")
	if err := Scan(context.Background(), b.Addrs, "commands.dlt", Filter{}, func(kafka.Message) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Scan returned %v, want the callback's error", err)
	}
}

func TestScanMergesPartitionsOldestFirst(t *testing.T) {
	t.Parallel()
	b := testbroker.New(t, 3, "commands.dlt")
	const n = 60
	start := time.Now().Add(-time.Hour)
	deadLetters(t, b, "commands.dlt", n, start)
	var got []kafka.Message
	err := Scan(context.Background(), b.Addrs, "commands.dlt", Filter{}, func(m kafka.Message) error {
		got = append(got, m)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("delivered %d records, want %d", len(got), n)
	}
	partitions := map[int]bool{}
	for i, m := range got {
		partitions[m.Partition] = true
		if want := fmt.Sprintf("o%d", i); string(m.Key) != want || len(m.Value) != 1<<10 || Header(m, HeaderReason) != ReasonError {
			t.Fatalf("record %d: key %s, %d bytes, reason %q; want %s, 1024 bytes, error", i, m.Key, len(m.Value), Header(m, HeaderReason), want)
		}
	}
	if len(partitions) < 2 {
		t.Errorf("records came from partitions %v: the test wants several", partitions)
	}
}

// A window starts each partition at the first record of its time, reads
// only the partitions it names, and reports what it has read of what it
// has to read.
func TestScanWindowReadsFromItsTimeAndPartitionsOnly(t *testing.T) {
	t.Parallel()
	b := testbroker.New(t, 3, "window.dlt")
	start := time.Now().Add(-time.Hour)
	sent := deadLetters(t, b, "window.dlt", 60, start)
	from := start.Add(40 * time.Millisecond) // the last 20 records
	var got []string
	var lastRead, lastTotal int64
	w := Window{From: from, Progress: func(read, total int64) { lastRead, lastTotal = read, total }}
	err := ScanWindow(context.Background(), b.Addrs, "window.dlt", Filter{}, w, func(m kafka.Message) error {
		got = append(got, string(m.Key))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 20 || got[0] != "o40" || got[19] != "o59" {
		t.Errorf("from the 40th record's time: read %v, want o40..o59", got)
	}
	if lastRead != 20 || lastTotal != 20 {
		t.Errorf("progress said %d of %d, want 20 of 20", lastRead, lastTotal)
	}
	p := (&kafka.Murmur2Balancer{}).Balance(sent[7], 0, 1, 2)
	got = got[:0]
	err = ScanWindow(context.Background(), b.Addrs, "window.dlt", Filter{Key: "o7"}, Window{Partitions: []int{p}}, func(m kafka.Message) error {
		if m.Partition != p {
			t.Errorf("read partition %d, want only %d", m.Partition, p)
		}
		got = append(got, string(m.Key))
		return nil
	})
	if err != nil || strings.Join(got, ",") != "o7" {
		t.Errorf("key o7 in its partition %d: %v, %v", p, got, err)
	}
	got = got[:0]
	err = ScanWindow(context.Background(), b.Addrs, "window.dlt", Filter{}, Window{From: time.Now()}, func(m kafka.Message) error {
		got = append(got, string(m.Key))
		return nil
	})
	if err != nil || len(got) != 0 {
		t.Errorf("from now: %v, %v, want nothing", got, err)
	}
}
