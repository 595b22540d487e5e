package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/cmd/sagactl/internal/deadletter"
	"github.com/purchase-saga/messaging/dlt"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/testbroker"
)

// seed puts dead letters on stock.dlt: for each (key, reason, age) one
// record whose value is a stock.reserve envelope.
func seed(t *testing.T, b *testbroker.Broker, specs []deadSpec) map[string]envelope.Message {
	t.Helper()
	w := broker.NewWriter(b.Addrs, nil)
	defer w.Close()
	sent := map[string]envelope.Message{}
	for i, s := range specs {
		m, err := envelope.New("stock.reserve", s.key, map[string]any{"order_id": s.key})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := m.Encode()
		orig := kafka.Message{Topic: "stock", Partition: 0, Offset: int64(i), Key: []byte(s.key), Value: v,
			Headers: []kafka.Header{{Key: envelope.HeaderMessageID, Value: []byte(m.ID.String())}, {Key: envelope.HeaderType, Value: []byte(m.Type)}}}
		rec := dlt.Record("stock.dlt", orig, dlt.Failure{Reason: s.reason, Err: "boom", Attempts: 5, Service: "stock-service",
			At: time.Now().Add(-s.age), Origin: dlt.Origin{Topic: "stock", Partition: 0, Offset: int64(i)}})
		if err := w.WriteMessages(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		sent[s.key] = m
	}
	return sent
}

type deadSpec struct {
	key, reason string
	age         time.Duration
}

func sagactl(t *testing.T, b *testbroker.Broker, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append(args, "--brokers", strings.Join(b.Addrs, ",")), &out, &errOut)
	return out.String(), err
}

func listKeys(t *testing.T, b *testbroker.Broker, args ...string) []string {
	t.Helper()
	out, err := sagactl(t, b, append([]string{"dlt", "list", "--topic", "stock.dlt", "--json"}, args...)...)
	if err != nil {
		t.Fatalf("dlt list %v: %v", args, err)
	}
	var recs []deadletter.Record
	if err := json.Unmarshal([]byte(out), &recs); err != nil {
		t.Fatalf("dlt list --json printed %q: %v", out, err)
	}
	var keys []string
	for _, r := range recs {
		keys = append(keys, r.Key)
	}
	return keys
}

var specs = []deadSpec{
	{"o1", dlt.ReasonError, 3 * time.Hour},
	{"o2", dlt.ReasonError, 10 * time.Minute},
	{"o3", dlt.ReasonRejected, 5 * time.Minute},
	{"o4", dlt.ReasonPoison, time.Minute},
	{"o5", dlt.ReasonError, 0},
}

func TestListFiltersSelectExactlyTheMatchingRecords(t *testing.T) {
	b := testbroker.New(t, 1, "stock", "stock.dlt")
	seed(t, b, specs)
	tests := []struct {
		args []string
		want string
	}{
		{nil, "o5,o4,o3,o2,o1"},
		{[]string{"--reason", "error"}, "o5,o2,o1"},
		{[]string{"--key", "o3"}, "o3"},
		{[]string{"--since", "1h"}, "o5,o4,o3,o2"},
		{[]string{"--reason", "error", "--since", "1h"}, "o5,o2"},
		{[]string{"--limit", "2"}, "o5,o4"},
		{[]string{"--key", "nobody"}, ""},
	}
	for _, tt := range tests {
		if got := strings.Join(listKeys(t, b, tt.args...), ","); got != tt.want {
			t.Errorf("dlt list %v = %q, want %q", tt.args, got, tt.want)
		}
	}
	if _, err := sagactl(t, b, "dlt", "list", "--topic", "stock.dlt", "--reason", "bogus"); err == nil {
		t.Errorf("an unknown --reason was accepted")
	}
	if _, err := sagactl(t, b, "dlt", "list"); !errors.Is(err, errUsage) {
		t.Errorf("dlt list without --topic: %v, want a usage error", err)
	}
}

func TestReplayDryRunSendsNothing(t *testing.T) {
	b := testbroker.New(t, 1, "stock", "stock.dlt")
	seed(t, b, specs)
	out, err := sagactl(t, b, "dlt", "replay", "--topic", "stock.dlt", "--reason", "error", "--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "would replay 3 record(s)") {
		t.Errorf("dry run printed %q, want it to name the 3 records it would send", out)
	}
	// A replay's writes are acknowledged before it returns: whatever it
	// sent is below the topic's end now, so there is nothing to wait for.
	got, err := dlt.Read(context.Background(), b.Addrs, "stock", dlt.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("dry run sent %d records", len(got))
	}
}

func TestReplayRepublishesWithFreshIDAndReplayHeaders(t *testing.T) {
	b := testbroker.New(t, 1, "stock", "stock.dlt")
	sent := seed(t, b, specs)
	out, err := sagactl(t, b, "dlt", "replay", "--topic", "stock.dlt", "--since", "2h", "--rate", "1000", "--include-poison")
	if err != nil {
		t.Fatal(err)
	}
	// o1 is too old, o3 is a rejection (a reply, not a command).
	if !strings.Contains(out, "replayed 3 record(s) from stock.dlt, skipped 1") {
		t.Errorf("replay printed %q", out)
	}
	got := b.ReadAll(t, "stock", 3, 5*time.Second)
	if len(got) != 3 {
		t.Fatalf("%d records on stock, want 3", len(got))
	}
	keys := map[string]bool{}
	for _, m := range got {
		key := string(m.Key)
		keys[key] = true
		env, err := envelope.Decode(m.Value)
		if err != nil {
			t.Fatalf("replayed value: %v", err)
		}
		id := dlt.Header(m, envelope.HeaderMessageID)
		if id == sent[key].ID.String() || env.ID.String() != id {
			t.Errorf("%s: message id %s (envelope %s), want a fresh one, not %s", key, id, env.ID, sent[key].ID)
		}
		if !strings.HasPrefix(dlt.Header(m, dlt.HeaderReplayOf), "stock.dlt/0/") {
			t.Errorf("%s: replay-of %q", key, dlt.Header(m, dlt.HeaderReplayOf))
		}
		if _, err := time.Parse(time.RFC3339Nano, dlt.Header(m, dlt.HeaderReplayedAt)); err != nil {
			t.Errorf("%s: replayed-at: %v", key, err)
		}
		if dlt.Header(m, dlt.HeaderReason) != "" {
			t.Errorf("%s: replayed record still carries dead-letter headers", key)
		}
		if env.SagaID != key || env.Type != "stock.reserve" {
			t.Errorf("%s: replayed envelope %+v", key, env)
		}
	}
	if fmt.Sprint(keys) != "map[o2:true o4:true o5:true]" {
		t.Errorf("replayed keys %v, want o2, o4, o5", keys)
	}
	// --max bounds the run.
	if out, err := sagactl(t, b, "dlt", "replay", "--topic", "stock.dlt", "--reason", "error", "--max", "1", "--rate", "1000"); err != nil || !strings.Contains(out, "replayed 1 record(s)") {
		t.Errorf("replay --max 1: %q, %v", out, err)
	}
}

func TestReplayOfARejectionSendsTheRefusedCommand(t *testing.T) {
	b := testbroker.New(t, 1, "stock", "stock.dlt")
	cmd, err := envelope.New("stock.reserve", "o9", map[string]any{"order_id": "o9"})
	if err != nil {
		t.Fatal(err)
	}
	cmdValue, _ := cmd.Encode()
	rej, err := envelope.New("stock.rejected", "o9", map[string]any{"order_id": "o9", "reason": "out_of_stock"})
	if err != nil {
		t.Fatal(err)
	}
	rejValue, _ := rej.Encode()
	headers := dlt.Failure{Reason: dlt.ReasonRejected, Err: "out_of_stock", Attempts: 1, Service: "stock-service",
		Origin: dlt.Origin{Topic: "stock", Partition: 0, Offset: 7}}.Headers()
	headers[dlt.HeaderOriginalValue] = string(cmdValue)
	rec := kafka.Message{Topic: "stock.dlt", Key: []byte("o9"), Value: rejValue,
		Headers: []kafka.Header{{Key: envelope.HeaderType, Value: []byte("stock.rejected")}}}
	for k, v := range headers {
		rec.Headers = append(rec.Headers, kafka.Header{Key: k, Value: []byte(v)})
	}
	w := broker.NewWriter(b.Addrs, nil)
	defer w.Close()
	if err := w.WriteMessages(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if _, err := sagactl(t, b, "dlt", "replay", "--topic", "stock.dlt", "--key", "o9"); err != nil {
		t.Fatal(err)
	}
	got := b.ReadAll(t, "stock", 1, 5*time.Second)
	if len(got) != 1 {
		t.Fatalf("%d records on stock, want 1", len(got))
	}
	env, err := envelope.Decode(got[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	if env.Type != "stock.reserve" || env.ID == cmd.ID || dlt.Header(got[0], envelope.HeaderType) != "stock.reserve" {
		t.Errorf("replayed %s (id %s, type header %q), want the refused stock.reserve under a fresh id",
			env.Type, env.ID, dlt.Header(got[0], envelope.HeaderType))
	}
}

func TestListPrintsEveryRecordOfALongTopic(t *testing.T) {
	b := testbroker.New(t, 3, "stock", "stock.dlt")
	var many []deadSpec
	for i := range 250 {
		many = append(many, deadSpec{fmt.Sprintf("o%03d", i), dlt.ReasonError, time.Duration(250-i) * time.Second})
	}
	seed(t, b, many)
	if got, want := len(listKeys(t, b, "--limit", "0")), 250; got != want {
		t.Errorf("dlt list --json --limit 0 printed %d records, want %d", got, want)
	}
	keys := listKeys(t, b, "--limit", "120")
	if got, want := len(keys), 120; got != want {
		t.Fatalf("dlt list --json --limit 120 printed %d records, want %d", got, want)
	}
	if got, want := keys[0]+".."+keys[119], "o249..o130"; got != want {
		t.Errorf("dlt list --limit 120 printed %s, want the newest first, %s", got, want)
	}
	if all := listKeys(t, b, "--limit", "0"); all[0] != "o249" || all[249] != "o000" {
		t.Errorf("dlt list --limit 0 printed %s..%s, want the newest first, o249..o000", all[0], all[249])
	}
	if got := listKeys(t, b, "--key", "nobody"); len(got) != 0 {
		t.Errorf("dlt list --key nobody printed %v", got)
	}
	out, err := sagactl(t, b, "dlt", "list", "--topic", "stock.dlt", "--limit", "0")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Count(out, "stock/0/"), 250; got != want || !strings.HasSuffix(out, "250 record(s) on stock.dlt\n") {
		t.Errorf("dlt list --limit 0 printed %d rows (want %d) ending %q", got, want, out[max(0, len(out)-60):])
	}
}

// Poison is skipped unless asked for, and replayed after a warning then.
func TestReplaySkipsPoisonUnlessAskedAndWarns(t *testing.T) {
	b := testbroker.New(t, 1, "stock", "stock.dlt")
	seed(t, b, specs)
	out, err := sagactl(t, b, "dlt", "replay", "--topic", "stock.dlt", "--reason", "poison", "--dry-run")
	if err != nil || !strings.Contains(out, "key=o4: poison") || !strings.Contains(out, "would replay 0 record(s) from stock.dlt, skipped 1") {
		t.Errorf("replay of poison without --include-poison: %v, printed %q", err, out)
	}
	var stdout, stderr bytes.Buffer
	err = run(context.Background(), []string{"dlt", "replay", "--topic", "stock.dlt", "--reason", "poison", "--dry-run",
		"--include-poison", "--brokers", strings.Join(b.Addrs, ",")}, &stdout, &stderr)
	if err != nil || !strings.Contains(stdout.String(), "would replay 1 record(s)") || !strings.Contains(stderr.String(), "warning: replaying poison") {
		t.Errorf("replay with --include-poison: %v, printed %q and %q", err, stdout.String(), stderr.String())
	}
}

// A list cut by --limit says how many records matched in all.
func TestListSaysHowManyOfHowMany(t *testing.T) {
	b := testbroker.New(t, 1, "stock", "stock.dlt")
	seed(t, b, specs)
	out, err := sagactl(t, b, "dlt", "list", "--topic", "stock.dlt", "--limit", "2")
	if err != nil || !strings.Contains(out, "2 of 5 record(s) on stock.dlt") {
		t.Errorf("dlt list --limit 2: %v, printed %q", err, out)
	}
	out, err = sagactl(t, b, "dlt", "list", "--topic", "stock.dlt", "--reason", "error")
	if err != nil || !strings.Contains(out, "\n3 record(s) on stock.dlt") {
		t.Errorf("dlt list of every error record: %v, printed %q", err, out)
	}
}

// The summary lists every dead-letter topic, empty ones too, with its
// records by reason.
func TestSummaryCountsEveryDeadLetterTopic(t *testing.T) {
	b := testbroker.New(t, 1, "stock", "stock.dlt", "payment.dlt")
	seed(t, b, specs)
	out, err := sagactl(t, b, "dlt", "summary")
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 5 {
			lines[f[0]] = strings.Join(f[1:5], " ")
		}
	}
	if got := lines["stock.dlt"]; got != "5 1 3 1" {
		t.Errorf("stock.dlt: %q, want 5 records: 1 rejected, 3 errors, 1 poison\n%s", got, out)
	}
	if got := lines["payment.dlt"]; got != "0 0 0 0" {
		t.Errorf("payment.dlt: %q, want empty\n%s", got, out)
	}
	if !strings.Contains(out, "2 dead-letter topic(s)") {
		t.Errorf("summary printed %q, want two topics", out)
	}
}

// dlt list prints nothing on stderr unless asked to report its progress
// (or stderr is a terminal); asked, it reports how far it read.
func TestListReportsProgressOnlyWhenAsked(t *testing.T) {
	b := testbroker.New(t, 1, "stock", "stock.dlt")
	seed(t, b, specs)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"dlt", "list", "--topic", "stock.dlt", "--brokers", strings.Join(b.Addrs, ",")}, &stdout, &stderr)
	if err != nil || stderr.Len() != 0 {
		t.Errorf("dlt list: %v, stderr %q, want nothing there", err, stderr.String())
	}
	p := newProgress(&stderr, true, "reading stock.dlt")
	p.last = p.last.Add(-2 * time.Second)
	p.report(3, 5)
	p.report(4, 5) // within a second of the last report: quiet
	if got, want := stderr.String(), "reading stock.dlt: 3 of 5 records (60%), 0s\n"; got != want {
		t.Errorf("progress printed %q, want %q", got, want)
	}
}
