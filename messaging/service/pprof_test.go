package service

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/purchase-saga/messaging/processtest"
)

func TestPprofServesOnlyOnLoopback(t *testing.T) {
	for _, addr := range []string{":6060", "0.0.0.0:6060", "192.0.2.1:6060", "example.com:6060", "127.0.0.1"} {
		if _, err := servePprof(addr, slog.Default()); err == nil {
			t.Errorf("servePprof(%q) = nil error, want a refusal", addr)
		}
	}
	stop, err := servePprof("", slog.Default())
	if err != nil {
		t.Fatalf("servePprof(\"\") = %v, want nothing served and no error", err)
	}
	stop()
}

func TestPprofServesProfiles(t *testing.T) {
	addr := processtest.FreeAddr(t)
	stop, err := servePprof(addr, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	resp, err := http.Get("http://" + addr + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "profile") {
		t.Errorf("GET /debug/pprof/: %d %.200s", resp.StatusCode, body)
	}
}
