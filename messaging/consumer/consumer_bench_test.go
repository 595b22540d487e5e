package consumer_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/messaging/schema"
	"github.com/purchase-saga/messaging/testbroker"
	"github.com/purchase-saga/messaging/testdb"
)

// BenchmarkConsumer measures one consumer alone, configured as a
// service's (the services' reader and defaults): each message is claimed
// in the inbox and applied by a handler that inserts one row, in the
// batch's transaction, either with a statement of its own
// (statement-per-message) or, as the services' handlers do, kept and
// inserted with the batch's other rows in one statement just before the
// commit (set-based, postgres.Pending). Once the consumer has joined its
// group and applied a first message, the timer runs from the moment b.N
// messages of 1,000 keys are produced (to six partitions) until all are
// committed. Besides ns/op (per message) it reports messages/s, the test
// process's CPU per message (consumer, producer and the in-process broker)
// and the CPU per message of the database's backends. scripts/bench.sh
// runs it with -benchtime 20000x.
func BenchmarkConsumer(b *testing.B) {
	b.Run("statement-per-message", func(b *testing.B) { benchConsumer(b, insertNow) })
	b.Run("set-based", func(b *testing.B) { benchConsumer(b, insertBeforeCommit) })
}

// effect is the row a benchmark handler inserts for a message.
type effect struct {
	id  uuid.UUID
	key string
	seq int
}

// insertNow inserts e at once, a round trip per message.
func insertNow(ctx context.Context, tx pgx.Tx, e effect) error {
	_, err := tx.Exec(ctx, `INSERT INTO effects (message_id, key, seq) VALUES ($1, $2, $3)`, e.id, e.key, e.seq)
	return err
}

// insertBeforeCommit keeps e and inserts the batch's effects in one
// statement before the commit.
func insertBeforeCommit(ctx context.Context, tx pgx.Tx, e effect) error {
	pending := postgres.Pending(ctx, "effects", func(ctx context.Context, es *[]effect) error {
		ids, keys, seqs := make([]uuid.UUID, len(*es)), make([]string, len(*es)), make([]int, len(*es))
		for i, e := range *es {
			ids[i], keys[i], seqs[i] = e.id, e.key, e.seq
		}
		_, err := tx.Exec(ctx, `INSERT INTO effects (message_id, key, seq)
			SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[])`, ids, keys, seqs)
		return err
	})
	if pending == nil {
		return insertNow(ctx, tx, e)
	}
	*pending = append(*pending, e)
	return nil
}

func benchConsumer(b *testing.B, insert func(context.Context, pgx.Tx, effect) error) {
	db := testdb.New(b, func(ctx context.Context, db *sql.DB) error {
		if err := schema.Up(ctx, db); err != nil {
			return err
		}
		_, err := db.ExecContext(ctx, `CREATE TABLE effects (
			n bigserial PRIMARY KEY, message_id uuid NOT NULL, key text NOT NULL, seq int NOT NULL)`)
		return err
	})
	br := testbroker.New(b, 6, in, inDLT)
	w := broker.NewWriter(br.Addrs, nil)
	defer w.Close()

	var applied atomic.Int64
	warm, all := make(chan struct{}), make(chan struct{})
	handle := func(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
		var data struct{ Seq int }
		if err := d.Message.DecodeData(&data); err != nil {
			return err
		}
		if err := insert(ctx, tx, effect{d.Message.ID, d.Key, data.Seq}); err != nil {
			return err
		}
		postgres.AfterCommit(ctx, func() {
			switch applied.Add(1) {
			case 1:
				close(warm)
			case int64(b.N) + 1:
				close(all)
			}
		})
		return nil
	}
	c, err := consumer.New(consumer.Config{
		Reader:      broker.NewReader(br.Addrs, group, []string{in}, broker.ReaderOptions{}, nil),
		Pool:        db.Pool,
		Handler:     handle,
		DeadLetters: w,
		Service:     "bench-service",
		Logger:      slog.New(slog.DiscardHandler), // a log line would split the result line
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = c.Run(ctx) })
	defer func() { stop(); wg.Wait() }()

	produce(b, w, benchMessages(b, 0, 1))
	waitClosed(b, warm, &applied, 1)
	msgs := benchMessages(b, 1, b.N)
	pgBefore := testdb.BackendsCPU(b, db.Pool, db.Name)
	cpuBefore := testdb.ProcessCPU()
	b.ResetTimer()
	start := time.Now()
	produce(b, w, msgs)
	waitClosed(b, all, &applied, b.N+1)
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := testdb.ProcessCPU() - cpuBefore
	pg := testdb.BackendsCPU(b, db.Pool, db.Name).Since(pgBefore)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/msg")
	b.ReportMetric(float64(pg.Microseconds())/float64(b.N), "pg-cpu-us/msg")
}

// benchMessages encodes n messages from seq first on.
func benchMessages(b *testing.B, first, n int) []kafka.Message {
	out := make([]kafka.Message, n)
	for i := range out {
		seq := first + i
		key := fmt.Sprintf("01900000-0000-7000-8000-%012d", seq%1000)
		m, err := envelope.New("test.event", key, map[string]any{"seq": seq, "customer_id": "customer-42", "amount_cents": 1200})
		if err != nil {
			b.Fatal(err)
		}
		v, err := m.Encode()
		if err != nil {
			b.Fatal(err)
		}
		out[i] = kafka.Message{Topic: in, Key: []byte(key), Value: v, Headers: []kafka.Header{
			{Key: envelope.HeaderMessageID, Value: []byte(m.ID.String())}, {Key: envelope.HeaderType, Value: []byte(m.Type)}}}
	}
	return out
}

// produce writes msgs 1,000 to a call, as a relay's batches come.
func produce(b *testing.B, w *kafka.Writer, msgs []kafka.Message) {
	for len(msgs) > 0 {
		n := min(1000, len(msgs))
		if err := w.WriteMessages(context.Background(), msgs[:n]...); err != nil {
			b.Fatal(err)
		}
		msgs = msgs[n:]
	}
}

func waitClosed(b *testing.B, ch chan struct{}, applied *atomic.Int64, want int) {
	select {
	case <-ch:
	case <-time.After(10 * time.Minute):
		b.Fatalf("applied %d of %d messages in 10 minutes", applied.Load(), want)
	}
}
