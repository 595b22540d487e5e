package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/outbox"
	"github.com/purchase-saga/messaging/postgres"
)

func topicsCreate(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("topics create")
	brokers := brokersFlag(fs)
	partitions := fs.Int("partitions", envInt("TOPIC_PARTITIONS", 6), "partitions per topic")
	replication := fs.Int("replication", envInt("TOPIC_REPLICATION", 1), "replication factor")
	if err := parse(fs, args, out); err != nil {
		return err
	}
	err := broker.EnsureTopics(ctx, broker.Split(*brokers), topic.All, topic.Compacted,
		broker.TopicOptions{Partitions: *partitions, Replication: *replication})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "topics present: %s\n", strings.Join(topic.All, ", "))
	return nil
}

func envInt(name string, def int) int {
	var n int
	if _, err := fmt.Sscan(os.Getenv(name), &n); err == nil && n > 0 {
		return n
	}
	return def
}

// dbList collects repeated --db NAME=URL flags.
type dbList []string

func (d *dbList) String() string     { return strings.Join(*d, ",") }
func (d *dbList) Set(v string) error { *d = append(*d, v); return nil }

func outboxStatus(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("outbox status")
	var dbs dbList
	fs.Var(&dbs, "db", "NAME=URL of a database to inspect (repeatable)")
	if err := parse(fs, args, out); err != nil {
		return err
	}
	specs, err := databaseSpecs(dbs)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DATABASE\tUNPUBLISHED\tOLDEST UNPUBLISHED\tFAILED")
	var failed []string
	for _, d := range specs {
		name := d.name
		st, err := status(ctx, d.url)
		if err != nil {
			fmt.Fprintf(tw, "%s\terror\t%v\n", name, err)
			failed = append(failed, name)
			continue
		}
		age := "-"
		if st.Unpublished > 0 {
			age = st.OldestAge.Round(1e6).String()
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\n", name, st.Unpublished, age, st.Failed)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("could not read %s", strings.Join(failed, ", "))
	}
	return nil
}

func status(ctx context.Context, url string) (outbox.Status, error) {
	pool, err := postgres.Connect(ctx, url, 1)
	if err != nil {
		return outbox.Status{}, err
	}
	defer pool.Close()
	return outbox.ReadStatus(ctx, pool)
}

// idList collects repeated --id N flags.
type idList []int64

func (l *idList) String() string { return fmt.Sprint(*l) }
func (l *idList) Set(v string) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return fmt.Errorf("%q is not an outbox row id", v)
	}
	*l = append(*l, n)
	return nil
}

// oneDatabase opens the database named by the --db NAME=URL flag.
func oneDatabase(ctx context.Context, spec string) (*pgxpool.Pool, error) {
	if spec == "" {
		return nil, usageError("--db NAME=URL is required")
	}
	_, url, ok := strings.Cut(spec, "=")
	if !ok {
		return nil, usageError(fmt.Sprintf("--db %q: want NAME=URL", spec))
	}
	return postgres.Connect(ctx, url, 1)
}

func outboxFailed(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("outbox failed")
	db := fs.String("db", "", "NAME=URL of the database")
	limit := fs.Int("limit", 50, "rows to list at most")
	if err := parse(fs, args, out); err != nil {
		return err
	}
	pool, err := oneDatabase(ctx, *db)
	if err != nil {
		return err
	}
	defer pool.Close()
	rows, err := outbox.ListFailed(ctx, pool, *limit)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTOPIC\tKEY\tBYTES\tFAILED AT\tERROR")
	for _, f := range rows {
		fmt.Fprintf(tw, "%d\t%s\t%.40s\t%d\t%s\t%s\n", f.ID, f.Topic, f.Key, f.Bytes, f.FailedAt.UTC().Format(time.RFC3339), f.Error)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d row(s) set aside shown (limit %d)\n", len(rows), *limit)
	return nil
}

func outboxRetry(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("outbox retry")
	db := fs.String("db", "", "NAME=URL of the database")
	var ids idList
	fs.Var(&ids, "id", "id of a row set aside (repeatable)")
	all := fs.Bool("all", false, "queue every row set aside")
	if err := parse(fs, args, out); err != nil {
		return err
	}
	if (len(ids) == 0) == !*all {
		return usageError("give --id N (repeatable) or --all, not both")
	}
	pool, err := oneDatabase(ctx, *db)
	if err != nil {
		return err
	}
	defer pool.Close()
	n, err := outbox.RetryFailed(ctx, pool, ids)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "queued %d row(s) for the relay\n", n)
	return nil
}
