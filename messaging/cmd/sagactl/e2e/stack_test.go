package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/purchase-saga/messaging/processtest"
	"github.com/purchase-saga/messaging/testdb"
)

const adminToken = "console-e2e-token"

// stack is the broker, the three services and the console, as processes
// of the binaries built from this tree.
type stack struct {
	t                 *testing.T
	root, bin, dir    string
	brokers           string
	order, stock, pay string // HTTP addresses
	console           string // the console's base URL
	dbs               map[string]*testdb.DB
}

func newStack(t *testing.T) *stack {
	t.Helper()
	s := &stack{t: t, root: processtest.WorkspaceRoot(t), bin: processtest.Binaries(t), dir: t.TempDir(), dbs: map[string]*testdb.DB{}}
	s.brokers = processtest.FreeAddr(t)
	s.start("devbroker", nil, "-addr", s.brokers, "-data-dir", filepath.Join(s.dir, "broker"), "-partitions", "3")
	for _, name := range []string{"stock", "payment", "order"} {
		s.dbs[name] = testdb.New(t, nil)
	}
	// The console first: the services export their spans to it
	// (POST /v1/traces), as make run has them do.
	consoleAddr := processtest.FreeAddr(t)
	s.console = "http://" + consoleAddr
	s.start("sagactl", []string{"ADMIN_TOKEN=" + adminToken}, "console", "--listen", consoleAddr, "--refresh", "1s",
		"--brokers", s.brokers, "--db", "order="+s.dbs["order"].URL, "--db", "stock="+s.dbs["stock"].URL, "--db", "payment="+s.dbs["payment"].URL)
	s.waitOK("sagactl", s.console+"/healthz")
	addrs := map[string]*string{"stock": &s.stock, "payment": &s.pay, "order": &s.order}
	for _, name := range []string{"stock", "payment", "order"} {
		*addrs[name] = processtest.FreeAddr(t)
		s.start(name+"-service", []string{"DATABASE_URL=" + s.dbs[name].URL, "KAFKA_BROKERS=" + s.brokers, "HTTP_ADDR=" + *addrs[name],
			"ADMIN_TOKEN=" + adminToken, "TOPIC_PARTITIONS=3", "KAFKA_SESSION_TIMEOUT=3s", "SHUTDOWN_TIMEOUT=5s", "MAX_ATTEMPTS=3",
			"OTEL_EXPORTER_OTLP_ENDPOINT=" + s.console, "OTEL_BSP_SCHEDULE_DELAY=200"})
	}
	for _, name := range []string{"stock", "payment", "order"} {
		s.waitOK(name+"-service", "http://"+*addrs[name]+"/readyz")
	}
	return s
}

// start runs binary name with env and args until the test ends, its
// output in a log shown when the test fails.
func (s *stack) start(name string, env []string, args ...string) {
	s.t.Helper()
	logPath := filepath.Join(s.dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logFile.Close(); close(done) }()
	s.t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if s.t.Failed() {
			b, _ := os.ReadFile(logPath)
			s.t.Logf("--- %s log (tail) ---\n%s", name, b[max(0, len(b)-4000):])
		}
	})
}

func (s *stack) waitOK(name, url string) {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("%s not ready at %s within a minute", name, url)
}

// call sends a JSON request (with the admin token when admin) and
// decodes the answer into out, if not nil; it returns the status.
func (s *stack) call(method, url string, body any, admin bool, out any) int {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if admin {
		req.Header.Set("Authorization", "Bearer "+adminToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

func (s *stack) must(method, url string, body any, admin bool, out any, ok ...int) {
	s.t.Helper()
	code := s.call(method, url, body, admin, out)
	for _, c := range ok {
		if code == c {
			return
		}
	}
	s.t.Fatalf("%s %s: %d, want %v", method, url, code, ok)
}

// item puts an item with quantity in stock and waits for order-service's
// catalog to show it (and for its sold-out gate to read it).
func (s *stack) item(id string, price, quantity int) {
	s.t.Helper()
	s.must("PUT", "http://"+s.stock+"/items/"+id, map[string]any{"name": id, "price_cents": price, "currency": "EUR"}, true, nil, 200, 201)
	s.must("POST", "http://"+s.stock+"/items/"+id+"/restock", map[string]any{"quantity": quantity}, true, nil, 200)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var c struct {
			Available int `json:"available"`
		}
		if s.call("GET", "http://"+s.order+"/catalog/"+id, nil, false, &c) == 200 && c.Available == quantity {
			time.Sleep(100 * time.Millisecond)
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the catalog never showed %d of %s", quantity, id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *stack) account(id string, balance int) {
	s.t.Helper()
	s.must("PUT", "http://"+s.pay+"/accounts/"+id, nil, true, nil, 200, 201)
	s.must("POST", "http://"+s.pay+"/accounts/"+id+"/deposits", map[string]any{"amount_cents": balance}, true, nil, 200, 201)
}

type order struct {
	ID            string `json:"id"`
	Status        string `json:"status"`
	FailureReason string `json:"failure_reason"`
	Steps         map[string]struct {
		Status string `json:"status"`
	} `json:"steps"`
}

// place places an order and waits until it has ended and no step is
// still moving.
func (s *stack) place(customer, item string, quantity int) order {
	s.t.Helper()
	var o order
	s.must("POST", "http://"+s.order+"/orders", map[string]any{"customer_id": customer,
		"lines": []map[string]any{{"item_id": item, "quantity": quantity}}}, false, &o, 201)
	deadline := time.Now().Add(60 * time.Second)
	for {
		var got order
		s.call("GET", "http://"+s.order+"/orders/"+o.ID+"?wait=2s", nil, false, &got)
		settled := got.Status != "PENDING" && got.Status != ""
		for _, st := range got.Steps {
			settled = settled && st.Status != "PENDING" && st.Status != "COMPENSATING"
		}
		if settled {
			return got
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("order %s not settled: %+v", o.ID, got)
		}
	}
}
