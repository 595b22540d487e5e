// Command devbroker runs a single-node Kafka-protocol broker (kfake) for
// development and tests: `devbroker -addr 127.0.0.1:9092 -data-dir DIR`.
// With a data directory, topics, records and committed offsets survive a
// restart. It listens on 127.0.0.1 only.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "devbroker:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:9092", "address to listen on (host must be loopback)")
	dataDir := flag.String("data-dir", "", "directory that persists topics, records and offsets (empty: memory only)")
	sync := flag.Bool("sync", false, "fsync every produced batch")
	minSession := flag.Duration("min-session-timeout", time.Second, "smallest consumer-group session timeout accepted")
	partitions := flag.Int("partitions", 6, "partitions of auto-created topics")
	flag.Parse()

	_, portText, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", *addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return fmt.Errorf("-addr %q: bad port", *addr)
	}
	opts := []kfake.Opt{
		kfake.Ports(port),
		kfake.GroupMinSessionTimeout(*minSession),
		kfake.DefaultNumPartitions(*partitions),
	}
	if *dataDir != "" {
		opts = append(opts, kfake.DataDir(*dataDir))
	}
	if *sync {
		opts = append(opts, kfake.SyncWrites())
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil)).With("service", "devbroker")
	log.Info("broker listening", "addrs", c.ListenAddrs(), "data_dir", *dataDir, "sync", *sync)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	<-ctx.Done()
	log.Info("broker stopping")
	c.Close()
	return nil
}
