package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/purchase-saga/messaging/cmd/sagactl/internal/console"
	"github.com/purchase-saga/messaging/cmd/sagactl/internal/traces"
)

// consoleCmd serves the ops console until ctx ends. It listens on
// loopback unless told otherwise, and replays only with the admin token.
func consoleCmd(ctx context.Context, args []string, out, stderr io.Writer) error {
	fs := newFlags("console")
	listen := fs.String("listen", "127.0.0.1:8090", "address to serve the console on (loopback by default)")
	token := fs.String("admin-token", os.Getenv("ADMIN_TOKEN"), "token a replay needs (default $ADMIN_TOKEN; empty: replays refused)")
	refresh := fs.Duration("refresh", 5*time.Second, "how often live pages reload their content")
	traceSpans := fs.Int("trace-spans", console.DefaultTraceSpans, "spans kept in memory from the services' OTLP exports to /v1/traces (the oldest dropped first)")
	var src sourceFlags
	src.register(fs)
	if err := parse(fs, args, out); err != nil {
		return err
	}
	if *traceSpans < 1 {
		return usageError("--trace-spans must be at least 1")
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return usageError(fmt.Sprintf("--listen %q: %v", *listen, err))
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(stderr, "warning: the console listens on %s, beyond this machine: its pages need no token\n", *listen)
	}
	s, closeAll, err := src.open(ctx, 2)
	if err != nil {
		return err
	}
	defer closeAll()
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	c := &console.Server{Src: s, Token: *token, Refresh: *refresh, Log: log, Traces: traces.NewStore(*traceSpans)}
	h, err := c.Handler()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 5 * time.Minute, IdleTimeout: time.Minute}
	fmt.Fprintf(out, "console on http://%s/\n", ln.Addr())
	fmt.Fprintf(out, "traces: OTEL_EXPORTER_OTLP_ENDPOINT=http://%s (OTLP/HTTP to /v1/traces; the last %d spans kept in memory)\n", ln.Addr(), *traceSpans)
	if *token == "" {
		fmt.Fprintln(out, "no admin token: replays are refused (--admin-token or ADMIN_TOKEN)")
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
