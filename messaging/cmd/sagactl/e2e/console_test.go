package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds the browser: $CHROMIUM, else Debian's chromium. Without
// one the test is skipped here, and fails in CI (CI=true), where .ci/run
// installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed, and CI must run the console's browser test (.ci/run installs it: apt-get install chromium)")
	}
	t.Skip("chromium is not installed (apt-get install chromium, or set CHROMIUM): the console's browser test is skipped")
	return ""
}

// browser starts headless Chromium with a fresh profile and nothing that
// reaches the network on its own (the network is closed here: Chromium
// stalls waiting for it otherwise).
func browser(t *testing.T, path string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 860),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The browser lives as long as the context of its first run: no
	// timeout on that one (each step below has its own).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// shots is where the test keeps a screenshot of each page.
func shots(t *testing.T, root string) string {
	t.Helper()
	dir := filepath.Join(root, "bench-results", "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestConsoleInTheBrowser places orders on the real stack, opens every
// page of the console in Chromium and checks what it shows (a saga's
// trace among them, from the spans the services exported to the
// console), then dry-runs
// and replays a dead letter through the pages with the admin token and
// checks that the page reports the replay and the saga's timeline shows
// the replayed record.
func TestConsoleInTheBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	chrome := chromium(t)
	s := newStack(t)
	s.item("chair", 5000, 10)
	s.account("alice", 100_000)
	s.account("carol", 1_000)
	done := s.place("alice", "chair", 1)
	failed := s.place("carol", "chair", 1) // payment refuses: a dead letter on payment.dlt, by payment-service
	if done.Status != "COMPLETED" || failed.Status != "FAILED" || failed.FailureReason != "insufficient_funds" {
		t.Fatalf("orders %+v and %+v, want one completed and one failed for insufficient funds", done, failed)
	}
	dir := shots(t, s.root)
	ctx := browser(t, chrome)
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			png, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
		})
	}
	run := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		stepCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(stepCtx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		run(chromedp.WaitVisible(chromedp.CSS(sel)))
		stepCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		got, err := chromedp.Run(stepCtx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return got
	}
	expect := func(page, got string, wants ...string) {
		t.Helper()
		for _, w := range wants {
			if !strings.Contains(got, w) {
				t.Errorf("%s lacks %q:\n%s", page, w, got)
			}
		}
	}

	// The sagas, newest first, and a filter.
	run(chromedp.Navigate(s.console + "/"))
	sagas := text("#sagas")
	expect("the sagas page", sagas, done.ID, failed.ID, "COMPLETED", "FAILED", "insufficient_funds")
	if strings.Index(sagas, failed.ID) > strings.Index(sagas, done.ID) {
		t.Errorf("the sagas page lists %s after %s, want the newest first", failed.ID, done.ID)
	}
	run(shot("sagas"))
	// Live refresh: an order placed now shows up without a reload.
	later := s.place("alice", "chair", 2)
	waitCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(waitCtx, chromedp.WaitVisible(chromedp.CSS(`a[href="/sagas/`+later.ID+`"]`))); err != nil {
		t.Errorf("the sagas page did not refresh itself to show order %s: %v", later.ID, err)
	}

	// The filter, with live refresh off (it would redraw the form under
	// the clicks); the page that answers has FAILED selected.
	run(chromedp.Click(chromedp.CSS(`#live`)), chromedp.SetValue(chromedp.CSS(`select[name=status]`), "FAILED"),
		chromedp.Click(chromedp.CSS(`.filters button`)), chromedp.WaitReady(chromedp.CSS(`select[name=status] option[selected]`)))
	if got := text("#sagas"); !strings.Contains(got, failed.ID) || strings.Contains(got, done.ID) {
		t.Errorf("sagas filtered by FAILED show:\n%s", got)
	}

	// One saga's timeline: order, steps, outbox rows, records, dead letter.
	run(chromedp.Click(chromedp.CSS(`a[href="/sagas/` + failed.ID + `"]`)))
	timeline := text("#timeline")
	expect("the failed saga's timeline", timeline, "placed", "stock.reserve", "payment.charge", "orderdb outbox", "stockdb outbox",
		"paymentdb outbox", "payment.dlt/", "rejected from payment/", "insufficient_funds", "stock.release", "COMPENSATED", "failed")
	expect("the failed saga's steps", text("#steps"), "payment", "FAILED", "stock", "COMPENSATED")
	run(shot("saga"))

	// The completed saga's trace, which the services exported to the
	// console: spans of all three services, as a waterfall.
	run(chromedp.Navigate(s.console + "/sagas/" + done.ID))
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(text("#traces"), "span(s) received") {
		if time.Now().After(deadline) {
			t.Fatalf("the saga page never said its trace's spans were received:\n%s", text("#traces"))
		}
		time.Sleep(500 * time.Millisecond)
		run(chromedp.Reload())
	}
	run(chromedp.Click(chromedp.CSS(`#traces a.button`)), chromedp.WaitVisible(chromedp.CSS(`table.waterfall`)))
	wantSpans := []string{"order-service", "stock-service", "payment-service", "POST /orders", "outbox write", "publish stock",
		"publish payment", "process stock", "process payment", "process stock.success", "process payment.success", "server", "producer", "consumer"}
	for {
		got := text("table.waterfall")
		missing := ""
		for _, w := range wantSpans {
			if !strings.Contains(got, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the trace page lacks %q:\n%s", missing, got)
		}
		time.Sleep(500 * time.Millisecond)
		run(chromedp.Reload())
	}
	run(shot("trace"))

	// Dead letters of payment.dlt, then the replay of the saga's.
	run(chromedp.Navigate(s.console + "/dlt?topic=payment.dlt"))
	expect("the dead-letter page", text("#deadletters"), failed.ID, "rejected", "payment-service", "insufficient_funds")
	expect("the dead-letter count", text("#count"), "1 of 1 record(s) on payment.dlt")
	run(shot("dlt"))
	run(chromedp.Click(chromedp.CSS(`#deadletters a.button`)), chromedp.WaitVisible(chromedp.CSS(`#dry-run`)),
		chromedp.Click(chromedp.CSS(`#dry-run`)))
	expect("the dry run", text("#dry-run-result"), "would replay 1 record(s) from payment.dlt, skipped 0", "-> payment key="+failed.ID)
	run(shot("replay-dry-run"))
	run(chromedp.SendKeys(chromedp.CSS(`#token`), adminToken), chromedp.Click(chromedp.CSS(`#confirm`)))
	expect("the replay", text("#replay-result"), "replayed 1 record(s) from payment.dlt, skipped 0", "type=payment.charge")
	run(shot("replay"))

	// The replayed charge is on the saga's timeline.
	deadline = time.Now().Add(30 * time.Second)
	for {
		run(chromedp.Navigate(s.console + "/sagas/" + failed.ID))
		if strings.Contains(text("#timeline"), "replay of payment.dlt/") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the timeline never showed the replayed record:\n%s", text("#timeline"))
		}
		time.Sleep(500 * time.Millisecond)
	}

	// The lag of every service.
	run(chromedp.Navigate(s.console + "/lag"))
	expect("the outboxes", text("#outboxes"), "orderdb", "stockdb", "paymentdb")
	expect("the consumers", text("#consumers"), "order-service", "stock-service", "payment-service", "stock.success", "stock-service-compensation",
		"payment-service-compensation")
	run(shot("lag"))
}
