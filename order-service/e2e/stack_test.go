package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/purchase-saga/messaging/processtest"
	"github.com/purchase-saga/messaging/testdb"
)

const adminToken = "e2e-admin-token"

// binaries builds the services, sagactl and devbroker once per test run.
func binaries(t *testing.T) string { return processtest.Binaries(t) }

// proc is one process of the stack.
type proc struct {
	t    *testing.T
	name string
	path string
	args []string
	env  []string
	addr string // HTTP address, for services
	logs string
	cmd  *exec.Cmd
	done chan struct{}
	exit error
}

func (p *proc) start() {
	p.t.Helper()
	logFile, err := os.OpenFile(p.logs, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	p.cmd = exec.Command(p.path, p.args...)
	p.cmd.Env = append(os.Environ(), p.env...)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.name, err)
	}
	p.done = make(chan struct{})
	go func() {
		p.exit = p.cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
}

// run runs the binary once with args and the process's environment.
func (p *proc) run(args ...string) ([]byte, error) {
	cmd := exec.Command(p.path, args...)
	cmd.Env = append(os.Environ(), p.env...)
	return cmd.CombinedOutput()
}

func (p *proc) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// signal sends sig and waits up to timeout for the exit; it returns the
// exit error (nil for status 0).
func (p *proc) signal(sig syscall.Signal, timeout time.Duration) error {
	p.t.Helper()
	if !p.running() {
		return p.exit
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return p.exit
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not exit within %v of %v", p.name, timeout, sig)
	}
}

func (p *proc) kill() { _ = p.signal(syscall.SIGKILL, 10*time.Second) }

// waitReady polls /readyz until it answers 200.
func (p *proc) waitReady(timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if !p.running() {
			p.t.Fatalf("%s exited: %v\n%s", p.name, p.exit, tail(p.logs))
		}
		resp, err := http.Get("http://" + p.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("%s not ready within %v\n%s", p.name, timeout, tail(p.logs))
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 6000 {
		b = b[len(b)-6000:]
	}
	return string(b)
}

// stack is a broker, three databases and the three services.
type stack struct {
	t       *testing.T
	bin     string
	dir     string
	broker  *proc
	dbs     map[string]*testdb.DB
	svcs    map[string]*proc
	brokers string
}

// options tune a stack.
type options struct {
	sagaTimeout string
	// skip names services not to start yet.
	skip []string
	// env is added to every service's environment, overriding the stack's.
	env []string
}

func newStack(t *testing.T, opt options) *stack {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	s := &stack{t: t, bin: binaries(t), dir: t.TempDir(), dbs: map[string]*testdb.DB{}, svcs: map[string]*proc{}}
	brokerAddr := restartableAddr(t) // processes restart on it: see restartableAddr
	s.brokers = brokerAddr
	s.broker = &proc{t: t, name: "devbroker", path: filepath.Join(s.bin, "devbroker"),
		args: []string{"-addr", brokerAddr, "-data-dir", filepath.Join(s.dir, "broker"), "-partitions", "3"},
		logs: filepath.Join(s.dir, "devbroker.log")}
	s.broker.start()
	t.Cleanup(func() { s.broker.kill() })
	if opt.sagaTimeout == "" {
		opt.sagaTimeout = "30s"
	}
	for _, name := range []string{"stock", "payment", "order"} {
		db := testdb.New(t, nil)
		s.dbs[name] = db
		p := &proc{t: t, name: name + "-service", path: filepath.Join(s.bin, name+"-service"), addr: restartableAddr(t),
			logs: filepath.Join(s.dir, name+".log")}
		p.env = []string{
			"DATABASE_URL=" + db.URL, "KAFKA_BROKERS=" + brokerAddr, "HTTP_ADDR=" + p.addr,
			"ADMIN_TOKEN=" + adminToken, "CURRENCY=EUR", "LOG_LEVEL=info", "TOPIC_PARTITIONS=3",
			"SAGA_TIMEOUT=" + opt.sagaTimeout, "KAFKA_SESSION_TIMEOUT=3s", "SHUTDOWN_TIMEOUT=10s", "MAX_ATTEMPTS=3",
		}
		p.env = append(p.env, opt.env...)
		s.svcs[name] = p
		t.Cleanup(func() {
			p.kill()
			if t.Failed() {
				t.Logf("--- %s log (tail) ---\n%s", p.name, tail(p.logs))
			}
		})
	}
	for _, name := range []string{"stock", "payment", "order"} {
		if !contains(opt.skip, name) {
			s.svcs[name].start()
		}
	}
	for _, name := range []string{"stock", "payment", "order"} {
		if !contains(opt.skip, name) {
			s.svcs[name].waitReady(60 * time.Second)
		}
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *stack) url(service, path string) string {
	return "http://" + s.svcs[service].addr + path
}

// call sends a JSON request and decodes a JSON answer into out (if not nil).
func (s *stack) call(method, url string, body any, admin bool, out any) int {
	s.t.Helper()
	var headers []string
	if admin {
		headers = []string{"Authorization", "Bearer " + adminToken}
	}
	code, err := s.request(method, url, body, out, headers...)
	if err != nil {
		s.t.Fatal(err)
	}
	return code
}

// request sends a JSON request with headers (name, value, ...) and decodes
// a JSON answer into out (if not nil), as far as it fits for an error
// answer, reporting a failed request instead of failing the test.
func (s *stack) request(method, url string, body any, out any, headers ...string) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		// A refusal's problem details may not fit out, made for the answer
		// hoped for: only a success must decode.
		if err := json.Unmarshal(b, out); err != nil && resp.StatusCode < 300 {
			return resp.StatusCode, fmt.Errorf("%s %s: decode %q: %w", method, url, b, err)
		}
	}
	return resp.StatusCode, nil
}

func (s *stack) mustCall(method, url string, body any, admin bool, out any, want ...int) {
	s.t.Helper()
	if got := s.call(method, url, body, admin, out); !contains(intsToStrings(want), fmt.Sprint(got)) {
		s.t.Fatalf("%s %s: status %d, want %v", method, url, got, want)
	}
}

func intsToStrings(ns []int) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = fmt.Sprint(n)
	}
	return out
}

// item seeds an item with stock and waits until order-service's catalog
// has it.
func (s *stack) item(id string, priceCents, quantity int64) {
	s.t.Helper()
	s.mustCall("PUT", s.url("stock", "/items/"+id), map[string]any{"name": id, "price_cents": priceCents, "currency": "EUR"}, true, nil, 200, 201)
	if quantity > 0 {
		s.mustCall("POST", s.url("stock", "/items/"+id+"/restock"), map[string]any{"quantity": quantity}, true, nil, 200)
	}
	s.waitCatalog(id, quantity)
}

// gateReads is two of the sold-out gate's catalog reads.
const gateReads = 100 * time.Millisecond

func (s *stack) waitCatalog(id string, available int64) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int64
		err := s.dbs["order"].Pool.QueryRow(context.Background(), `SELECT available FROM catalog WHERE item_id = $1`, id).Scan(&n)
		if err == nil && n == available {
			// order-service's sold-out gate reads the catalog again every
			// 50 ms (README: it may be that far behind): wait out two reads,
			// or an order placed now may still be refused as out of stock.
			time.Sleep(gateReads)
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("catalog never showed item %s with %d available (last %d, %v)", id, available, n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// account opens an account holding balance.
func (s *stack) account(id string, balance int64) {
	s.t.Helper()
	s.mustCall("PUT", s.url("payment", "/accounts/"+id), nil, true, nil, 200, 201)
	if balance > 0 {
		s.mustCall("POST", s.url("payment", "/accounts/"+id+"/deposits"), map[string]any{"amount_cents": balance}, true, nil, 200, 201)
	}
}

type line struct {
	ItemID   string `json:"item_id"`
	Quantity int64  `json:"quantity"`
}

type step struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

type orderView struct {
	ID            string `json:"id"`
	CustomerID    string `json:"customer_id"`
	AmountCents   int64  `json:"amount_cents"`
	Status        string `json:"status"`
	FailureReason string `json:"failure_reason"`
	Steps         struct {
		Stock   step `json:"stock"`
		Payment step `json:"payment"`
	} `json:"steps"`
}

func (s *stack) place(customer string, lines ...line) orderView {
	s.t.Helper()
	var o orderView
	s.mustCall("POST", s.url("order", "/orders"), map[string]any{"customer_id": customer, "lines": lines}, false, &o, 201)
	return o
}

// settled waits until the order is terminal and no step is still
// compensating or pending a compensation acknowledgement.
func (s *stack) settled(id string, timeout time.Duration) orderView {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var o orderView
		code := s.call("GET", s.url("order", "/orders/"+id+"?wait=2s"), nil, false, &o)
		if code == 200 && o.Status != "PENDING" && o.Steps.Stock.Status != "COMPENSATING" && o.Steps.Payment.Status != "COMPENSATING" &&
			(o.Status == "COMPLETED" || (o.Steps.Stock.Status != "PENDING" && o.Steps.Payment.Status != "PENDING")) {
			return o
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("order %s not settled within %v: %+v", id, timeout, o)
		}
		if code != 200 {
			time.Sleep(200 * time.Millisecond)
		}
	}
}

type itemView struct {
	OnHand    int64 `json:"on_hand"`
	Reserved  int64 `json:"reserved"`
	Available int64 `json:"available"`
}

func (s *stack) stockOf(id string) itemView {
	s.t.Helper()
	var it itemView
	s.mustCall("GET", s.url("stock", "/items/"+id), nil, false, &it, 200)
	return it
}

func (s *stack) balance(id string) int64 {
	s.t.Helper()
	var a struct {
		BalanceCents int64 `json:"balance_cents"`
	}
	s.mustCall("GET", s.url("payment", "/accounts/"+id), nil, false, &a, 200)
	return a.BalanceCents
}
