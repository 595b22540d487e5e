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

	"github.com/purchase-saga/payment-service/paymentmsg"
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
	migrate := func(ctx context.Context, db *sql.DB) error { return migrations.Up(ctx, db, migrations.Payment) }
	s, err := service.Start(ctx, "payment-service", cfg, log, migrate)
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

func request(t *testing.T, method, url, body string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer tok")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: status %d", method, url, res.StatusCode)
	}
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestServiceAnswersCommandsOverTheBroker(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: consumer group, relay and HTTP server")
	}
	url, b := start(t)
	request(t, http.MethodPut, url+"/accounts/c1", "")
	request(t, http.MethodPost, url+"/accounts/c1/deposits", `{"amount_cents":1000}`)
	charge := func(order string, cents int64) kafka.Message {
		return command(t, topic.Payment, paymentmsg.TypeCharge, order,
			paymentmsg.Charge{OrderID: order, CustomerID: "c1", AmountCents: cents, Currency: "EUR"})
	}

	w := broker.NewWriter(b.Addrs, nil)
	defer w.Close()
	err := w.WriteMessages(context.Background(),
		charge("o1", 400), charge("o2", 2000), charge("o3", 0),
		kafka.Message{Topic: topic.Payment, Key: []byte("o4"), Value: []byte("not json")},
		command(t, topic.PaymentCompensation, paymentmsg.TypeRefund, "o5", paymentmsg.Refund{OrderID: "o5"}),
	)
	if err != nil {
		t.Fatal(err)
	}

	var types []string
	for _, m := range b.ReadAll(t, topic.PaymentSuccess, 2, 30*time.Second) {
		e, err := envelope.Decode(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, e.Type)
	}
	slices.Sort(types)
	if got := strings.Join(types, ","); got != "payment.charged,payment.refunded" {
		t.Errorf("payment.success carries %s, want one payment.charged and one payment.refunded", got)
	}
	reasons := map[string]string{}
	for _, m := range b.ReadAll(t, topic.PaymentDLT, 3, 30*time.Second) {
		reasons[string(m.Key)] = dlt.Header(m, dlt.HeaderReason) + " from " + dlt.Header(m, dlt.HeaderOriginalTopic)
	}
	want := map[string]string{"o2": "rejected from payment", "o3": "poison from payment", "o4": "poison from payment"}
	for k, v := range want {
		if reasons[k] != v {
			t.Errorf("payment.dlt for %s: %q, want %q", k, reasons[k], v)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, url+"/accounts/c1", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var acct struct {
		BalanceCents int64 `json:"balance_cents"`
	}
	if err := json.NewDecoder(res.Body).Decode(&acct); err != nil || acct.BalanceCents != 600 {
		t.Errorf("balance %d (%v), want 600", acct.BalanceCents, err)
	}
}
