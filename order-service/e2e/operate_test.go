package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/processtest"
	"github.com/purchase-saga/messaging/testdb"
)

// TestErrorDeadLetterReplayedAfterRecoveryConverges breaks the stock
// database for stock-service (its items table disappears) until a reserve
// command is dead-lettered as an error, mends it, replays the dead letter
// with sagactl, and checks that the saga converges as the matrix says:
// the order failed on stock (payment refunded), and the late reservation
// the replay makes is released.
func TestErrorDeadLetterReplayedAfterRecoveryConverges(t *testing.T) {
	s := newStack(t, options{})
	s.item("globe", 3000, 5)
	s.account("gina", 10_000)
	stockDB := s.dbs["stock"].Pool
	exec := func(sql string) {
		t.Helper()
		if _, err := stockDB.Exec(context.Background(), sql); err != nil {
			t.Fatal(err)
		}
	}
	exec(`ALTER TABLE items RENAME TO items_away`)

	o := s.place("gina", line{"globe", 2})
	failed := s.settled(o.ID, 60*time.Second)
	if failed.Status != "FAILED" || failed.Steps.Stock.Status != "FAILED" || !strings.HasPrefix(failed.Steps.Stock.Reason, "error") {
		t.Fatalf("order %+v, want FAILED with the stock step failed for a technical error", failed)
	}
	if failed.Steps.Payment.Status != "COMPENSATED" || s.balance("gina") != 10_000 {
		t.Fatalf("payment %s, balance %d: want refunded", failed.Steps.Payment.Status, s.balance("gina"))
	}

	exec(`ALTER TABLE items_away RENAME TO items`)
	sagactl := filepath.Join(s.bin, "sagactl")
	list, err := runCmd(sagactl, "dlt", "list", "--topic", "stock.dlt", "--key", o.ID, "--reason", "error", "--brokers", s.brokers)
	if err != nil || !strings.Contains(list, "1 record(s)") {
		t.Fatalf("sagactl dlt list: %v\n%s", err, list)
	}
	for range 2 { // replaying the same record twice is harmless
		if out, err := runCmd(sagactl, "dlt", "replay", "--topic", "stock.dlt", "--key", o.ID, "--reason", "error", "--brokers", s.brokers); err != nil {
			t.Fatalf("sagactl dlt replay: %v\n%s", err, out)
		}
	}
	waitFor(t, 30*time.Second, "the replayed reservation to be compensated", func() bool {
		var got orderView
		s.call("GET", s.url("order", "/orders/"+o.ID), nil, false, &got)
		return got.Steps.Stock.Status == "COMPENSATED"
	})
	got := s.settled(o.ID, 30*time.Second)
	if got.Status != "FAILED" {
		t.Errorf("order %s after the replay, want it to stay FAILED", got.Status)
	}
	if it := s.stockOf("globe"); it.Reserved != 0 || it.Available != 5 {
		t.Errorf("stock %+v, want the replayed reservation released", it)
	}
	var effects int
	if err := stockDB.QueryRow(context.Background(), `SELECT count(*) FROM reservations WHERE order_id = $1`, o.ID).Scan(&effects); err != nil || effects != 1 {
		t.Errorf("%d reservation rows for the order (err %v), want 1", effects, err)
	}
}

func runCmd(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// TestMakeRunStackRunsTheDemo starts make run's script on free ports, runs
// scripts/demo.sh against it, stops it, and starts it a second time.
func TestMakeRunStackRunsTheDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	root := processtest.WorkspaceRoot(t)
	if out, err := runIn(root, nil, "make", "build"); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	suffix := fmt.Sprintf("_mr%06d", rand.IntN(1_000_000))
	t.Cleanup(func() { dropDatabases(t, suffix) })
	runDir := t.TempDir()
	env := []string{
		"RUN_DIR=" + runDir, "DB_SUFFIX=" + suffix, "DATABASE_URL=" + testdb.ServerURL(),
		"BROKER_ADDR=" + processtest.FreeAddr(t), "ORDER_HTTP_ADDR=" + processtest.FreeAddr(t), "STOCK_HTTP_ADDR=" + processtest.FreeAddr(t), "PAYMENT_HTTP_ADDR=" + processtest.FreeAddr(t),
		"CONSOLE_ADDR=" + processtest.FreeAddr(t),
	}
	lookup := func(k string) string {
		for _, kv := range env {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				return v
			}
		}
		return ""
	}
	for round := 1; round <= 2; round++ {
		running := startRunLocal(t, root, env, filepath.Join(runDir, fmt.Sprintf("run-%d.log", round)))
		demoEnv := []string{
			"ORDER_URL=http://" + lookup("ORDER_HTTP_ADDR"), "STOCK_URL=http://" + lookup("STOCK_HTTP_ADDR"),
			"PAYMENT_URL=http://" + lookup("PAYMENT_HTTP_ADDR"), "KAFKA_BROKERS=" + lookup("BROKER_ADDR"), "RUN_DIR=" + runDir,
		}
		out, err := runIn(root, demoEnv, "scripts/demo.sh")
		if err != nil || !strings.Contains(out, "the story holds") {
			t.Errorf("round %d: scripts/demo.sh: %v\n%s", round, err, out)
		}
		var book struct {
			OnHand int64 `json:"on_hand"`
		}
		s := &stack{t: t}
		s.mustCall("GET", "http://"+lookup("STOCK_HTTP_ADDR")+"/items/book-1", nil, false, &book, 200)
		if book.OnHand != 100 {
			t.Errorf("round %d: demo item book-1 has %d on hand, want 100 (seeded once)", round, book.OnHand)
		}
		if page, err := runIn(root, nil, "curl", "-fsS", "http://"+lookup("CONSOLE_ADDR")+"/sagas?customer=alice"); err != nil || !strings.Contains(page, "COMPLETED") {
			t.Errorf("round %d: the console's sagas page: %v\n%s", round, err, page)
		}
		// The services export their spans to the console, which make run
		// starts first.
		for _, svc := range []string{"order-service", "stock-service", "payment-service"} {
			if log, _ := os.ReadFile(filepath.Join(runDir, "logs", svc+".log")); !strings.Contains(string(log), `"exporting traces"`) {
				t.Errorf("round %d: %s does not export its traces to the console:\n%s", round, svc, log)
			}
		}
		stopRunLocal(t, running)
	}
}

func runIn(dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func startRunLocal(t *testing.T, root string, env []string, logPath string) *proc {
	t.Helper()
	p := &proc{t: t, name: "run-local", path: filepath.Join(root, "scripts", "run-local.sh"), env: env, logs: logPath}
	p.start()
	t.Cleanup(func() { stopRunLocal(t, p) })
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(tail(logPath), "purchase saga is running") {
		if !p.running() || time.Now().After(deadline) {
			t.Fatalf("make run's stack did not come up:\n%s", tail(logPath))
		}
		time.Sleep(200 * time.Millisecond)
	}
	return p
}

// stopRunLocal stops the script as Ctrl-C would and checks that it
// stopped every process it started.
func stopRunLocal(t *testing.T, p *proc) {
	t.Helper()
	if !p.running() {
		return
	}
	if err := p.signal(syscall.SIGTERM, 40*time.Second); err != nil && !strings.Contains(err.Error(), "exit status") {
		t.Errorf("stopping make run's stack: %v", err)
	}
	if !strings.Contains(tail(p.logs), "stopped.") {
		t.Errorf("make run's stack did not report stopping:\n%s", tail(p.logs))
	}
}

func dropDatabases(t *testing.T, suffix string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testdb.ServerURL())
	if err != nil {
		t.Logf("drop databases: %v", err)
		return
	}
	defer conn.Close(ctx)
	for _, db := range []string{"orderdb", "stockdb", "paymentdb"} {
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db + suffix}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Logf("drop %s%s: %v", db, suffix, err)
		}
	}
}
