// Command sagactl is the saga's operations tool:
//
//	sagactl dlt list   --topic stock.dlt [--reason error] [--key ORDER] [--since 1h|7d|RFC3339] [--limit 50] [--json] [--progress]
//	sagactl dlt replay --topic stock.dlt [same filters] [--dry-run] [--max N] [--rate 50]
//	sagactl dlt summary
//	sagactl saga show ORDER_ID [--db order=URL ...]
//	sagactl console [--listen 127.0.0.1:8090] [--admin-token T] [--trace-spans N] [--db order=URL ...]
//	sagactl topics create [--partitions 6] [--replication 1]
//	sagactl outbox status [--db order=URL ...]
//	sagactl outbox failed --db order=URL [--limit 50]
//	sagactl outbox retry  --db order=URL (--id N ... | --all)
//
// Brokers come from --brokers or KAFKA_BROKERS (default 127.0.0.1:9092);
// variables the environment leaves unset are read from the file
// SAGACTL_ENV names, else from make run's run/env when there is one;
// sagactl COMMAND --help prints a command's flags.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// commands are sagactl's commands: name, usage line and what it is for.
var commands = []struct{ name, synopsis, note string }{
	{"dlt list", "--topic TOPIC [--reason R] [--key K] [--since 1h|7d|RFC3339] [--limit 50] [--json] [--progress]", "the newest first"},
	{"dlt replay", "--topic TOPIC [--reason R] [--key K] [--since 1h|7d|RFC3339] [--limit N] [--dry-run] [--max N] [--rate 50]", ""},
	{"dlt summary", "", "every dead-letter topic: records by reason, the newest failure"},
	{"saga show", "ORDER_ID [--db NAME=URL ...]", "one saga's timeline: order, steps, outbox rows, records, dead letters"},
	{"console", "[--listen 127.0.0.1:8090] [--admin-token T] [--trace-spans N] [--db NAME=URL ...]", "the ops console in the browser (replays need ADMIN_TOKEN; collects traces at /v1/traces)"},
	{"topics create", "[--partitions 6] [--replication 1]", ""},
	{"outbox status", "[--db NAME=URL ...]", "default: ORDER_/STOCK_/PAYMENT_DATABASE_URL"},
	{"outbox failed", "--db NAME=URL [--limit 50]", "rows set aside: the broker refuses them"},
	{"outbox retry", "--db NAME=URL (--id N ... | --all)", "queue rows set aside again"},
}

// usage is the overview of every command.
func usage() string {
	var b strings.Builder
	b.WriteString("usage:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %s\n", strings.TrimSpace("sagactl "+c.name+" "+c.synopsis))
		if c.note != "" {
			fmt.Fprintf(&b, "      %s\n", c.note)
		}
	}
	b.WriteString("common flags: --brokers host:port,... (default $KAFKA_BROKERS or 127.0.0.1:9092)\n")
	b.WriteString("variables left unset are read from $SAGACTL_ENV, else make run's run/env\n")
	b.WriteString("sagactl COMMAND --help prints a command's flags.\n")
	return b.String()
}

// synopsis is command name's usage line.
func synopsis(name string) string {
	for _, c := range commands {
		if c.name == name {
			return c.synopsis
		}
	}
	return ""
}

// errUsage marks an error in how sagactl was called: main prints it and
// the usage, and exits 2.
var errUsage = errors.New("usage")

// errHelped says that the help asked for was printed.
var errHelped = errors.New("help printed")

// callError is an error in how sagactl was called, saying what.
type callError struct{ msg string }

func (e callError) Error() string        { return e.msg }
func (e callError) Is(target error) bool { return target == errUsage }

// usageError returns the error of a call that msg says is wrong.
func usageError(msg string) error { return callError{msg} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := loadEnvFile()
	if err == nil {
		err = run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	}
	switch {
	case errors.Is(err, errUsage):
		fmt.Fprintf(os.Stderr, "sagactl: %v\n\n%s", err, usage())
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "sagactl:", err)
		os.Exit(1)
	}
}

// run runs the subcommand args name. Help asked for (sagactl --help, or
// a subcommand's --help) is printed to stdout and is no error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(stdout, usage())
		return nil
	}
	if len(args) == 0 {
		return usageError("which command?")
	}
	// A command is one word (console) or two (dlt list).
	cmd, rest := args[0], args[1:]
	if synopsis(cmd) == "" && len(args) >= 2 {
		cmd, rest = args[0]+" "+args[1], args[2:]
	} else if synopsis(cmd) == "" {
		return usageError("which command?")
	}
	err := runCommand(ctx, cmd, rest, stdout, stderr)
	switch {
	case errors.Is(err, errHelped):
		return nil
	case errors.Is(err, errUsage):
		return fmt.Errorf("%s: %w", cmd, err)
	}
	return err
}

func runCommand(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) error {
	switch cmd {
	case "dlt list":
		return dltList(ctx, args, stdout, stderr)
	case "dlt replay":
		return dltReplay(ctx, args, stdout, stderr)
	case "dlt summary":
		return dltSummary(ctx, args, stdout)
	case "saga show":
		return sagaShow(ctx, args, stdout)
	case "console":
		return consoleCmd(ctx, args, stdout, stderr)
	case "topics create":
		return topicsCreate(ctx, args, stdout)
	case "outbox status":
		return outboxStatus(ctx, args, stdout)
	case "outbox failed":
		return outboxFailed(ctx, args, stdout)
	case "outbox retry":
		return outboxRetry(ctx, args, stdout)
	}
	return usageError(fmt.Sprintf("unknown command %q", cmd))
}
