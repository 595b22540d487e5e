package service

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// A running service reports its outbox's backlog; once it has stopped
// (and closed its pool) the process's metrics no longer ask that pool.
func TestOutboxMetricsLeaveWithTheService(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, _ := startTestService(t, ctx, Topics{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ln, nil) }()
	deadline := time.Now().Add(10 * time.Second)
	for !gathers(t, "saga_outbox_pending_rows") {
		if time.Now().After(deadline) {
			t.Fatal("a running service does not report saga_outbox_pending_rows")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if gathers(t, "saga_outbox_pending_rows") {
		t.Error("a stopped service still reports saga_outbox_pending_rows")
	}
}

// gathers reports whether the default registry has the metric name, and
// fails the test if gathering fails.
func gathers(t *testing.T, name string) bool {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return true
		}
	}
	return false
}
