// Command sagactl is the saga's operations tool:
//
//	sagactl dlt list   --topic stock.dlt [--reason error] [--key ORDER] [--since 1h] [--limit 50] [--json]
//	sagactl dlt replay --topic stock.dlt [same filters] [--dry-run] [--max N] [--rate 50]
//	sagactl topics create [--partitions 6] [--replication 1]
//	sagactl outbox status [--db order=URL ...]
//	sagactl outbox failed --db order=URL [--limit 50]
//	sagactl outbox retry  --db order=URL (--id N ... | --all)
//
// Brokers come from --brokers or KAFKA_BROKERS (default 127.0.0.1:9092).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage:
  sagactl dlt list   --topic TOPIC [--reason R] [--key K] [--since 1h] [--limit 50] [--json]
  sagactl dlt replay --topic TOPIC [--reason R] [--key K] [--since 1h] [--limit N] [--dry-run] [--max N] [--rate 50]
  sagactl topics create [--partitions 6] [--replication 1]
  sagactl outbox status [--db NAME=URL ...]   (default: ORDER_/STOCK_/PAYMENT_DATABASE_URL)
  sagactl outbox failed --db NAME=URL [--limit 50]      rows set aside: the broker refuses them
  sagactl outbox retry  --db NAME=URL (--id N ... | --all)   queue rows set aside again
common flags: --brokers host:port,... (default $KAFKA_BROKERS or 127.0.0.1:9092)
`

// errUsage makes main print the usage and exit 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, errUsage):
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "sagactl:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		return errUsage
	}
	switch args[0] + " " + args[1] {
	case "dlt list":
		return dltList(ctx, args[2:], stdout)
	case "dlt replay":
		return dltReplay(ctx, args[2:], stdout, stderr)
	case "topics create":
		return topicsCreate(ctx, args[2:], stdout)
	case "outbox status":
		return outboxStatus(ctx, args[2:], stdout)
	case "outbox failed":
		return outboxFailed(ctx, args[2:], stdout)
	case "outbox retry":
		return outboxRetry(ctx, args[2:], stdout)
	}
	return errUsage
}
