package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/dlt"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/service"
	"github.com/purchase-saga/messaging/testbroker"
	"github.com/purchase-saga/messaging/testdb"
	"github.com/purchase-saga/messaging/topic"
	"github.com/purchase-saga/migrations"

	"github.com/purchase-saga/stock-service/stockmsg"
)

// start runs the wired service on a fresh database and broker until the
// test ends, and returns its base URL and the broker.
func start(t *testing.T) (string, *testbroker.Broker) {
	t.Helper()
	db := testdb.New(t, nil)
	b := testbroker.New(t, 2)
	cfg := service.Config{DatabaseURL: db.URL, KafkaBrokers: b.Addrs, AdminToken: "tok", Currency: "EUR",
		MaxAttempts: 2, OutboxRetention: time.Hour, TopicPartitions: 2, TopicReplication: 1,
		ShutdownTimeout: 10 * time.Second, ConsumerWorkers: 2, DBMaxConns: 8}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithCancel(context.Background())
	migrate := func(ctx context.Context, db *sql.DB) error { return migrations.Up(ctx, db, migrations.Stock) }
	s, err := service.Start(ctx, "stock-service", cfg, log, migrate)
	if err != nil {
		t.Fatal(err)
	}
	app, err := wire(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ln, app) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("service run: %v", err)
		}
	})
	return "http://" + ln.Addr().String(), b
}

func send(t *testing.T, b *testbroker.Broker, msgs ...kafka.Message) {
	t.Helper()
	w := broker.NewWriter(b.Addrs, nil)
	defer w.Close()
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

func command(t *testing.T, to, typ, order string, data any) kafka.Message {
	t.Helper()
	m, err := envelope.New(typ, order, data)
	if err != nil {
		t.Fatal(err)
	}
	value, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return kafka.Message{Topic: to, Key: []byte(order), Value: value, Headers: []kafka.Header{
		{Key: envelope.HeaderMessageID, Value: []byte(m.ID.String())}, {Key: envelope.HeaderType, Value: []byte(typ)}}}
}

func admin(t *testing.T, method, url, body string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer tok")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: status %d", method, url, res.StatusCode)
	}
}

func types(t *testing.T, msgs []kafka.Message) []string {
	t.Helper()
	var out []string
	for _, m := range msgs {
		e, err := envelope.Decode(m.Value)
		if err != nil {
			t.Fatalf("record on %s: %v", m.Topic, err)
		}
		out = append(out, e.Type)
	}
	return out
}

func TestServiceAnswersCommandsOverTheBroker(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: consumer group, relay and HTTP server")
	}
	url, b := start(t)
	admin(t, http.MethodPut, url+"/items/a", `{"name":"A","price_cents":100,"currency":"EUR"}`)
	admin(t, http.MethodPost, url+"/items/a/restock", `{"quantity":5}`)

	send(t, b,
		command(t, topic.Stock, stockmsg.TypeReserve, "o1", stockmsg.Reserve{OrderID: "o1", Lines: []stockmsg.Line{{ItemID: "a", Quantity: 2}}}),
		command(t, topic.Stock, stockmsg.TypeReserve, "o2", stockmsg.Reserve{OrderID: "o2", Lines: []stockmsg.Line{{ItemID: "a", Quantity: 9}}}),
		command(t, topic.Stock, stockmsg.TypeReserve, "o3", stockmsg.Reserve{OrderID: "o3"}),
		kafka.Message{Topic: topic.Stock, Key: []byte("o4"), Value: []byte("not json")},
		command(t, topic.StockCompensation, stockmsg.TypeRelease, "o5", stockmsg.Release{OrderID: "o5"}),
	)

	success := types(t, b.ReadAll(t, topic.StockSuccess, 2, 30*time.Second))
	slices.Sort(success)
	if got := strings.Join(success, ","); got != "stock.released,stock.reserved" {
		t.Errorf("stock.success carries %s, want one stock.reserved and one stock.released", got)
	}
	reasons := map[string]string{}
	for _, m := range b.ReadAll(t, topic.StockDLT, 3, 30*time.Second) {
		reasons[string(m.Key)] = dlt.Header(m, dlt.HeaderReason) + " from " + dlt.Header(m, dlt.HeaderOriginalTopic)
	}
	want := map[string]string{"o2": "rejected from stock", "o3": "poison from stock", "o4": "poison from stock"}
	for k, v := range want {
		if reasons[k] != v {
			t.Errorf("stock.dlt for %s: %q, want %q", k, reasons[k], v)
		}
	}
	items := b.ReadAll(t, topic.Items, 3, 30*time.Second)
	if len(items) != 3 {
		t.Fatalf("items topic has %d records, want 3 (put, restock, reserve)", len(items))
	}
	var last stockmsg.ItemUpdated
	e, _ := envelope.Decode(items[2].Value)
	if err := json.Unmarshal(e.Data, &last); err != nil || last.Available != 3 || string(items[2].Key) != "a" {
		t.Errorf("last item.updated = %+v key %s, want item a available 3", last, items[2].Key)
	}
}
