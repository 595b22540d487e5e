package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/purchase-saga/messaging/cmd/sagactl/internal/deadletter"
)

// listPrinter prints dead letters, a table in blocks of lines or JSON.
type listPrinter interface {
	print(r deadletter.Record) error
	// done ends the output of the n records printed of the total that
	// matched on topic.
	done(n, total int, topic string) error
}

// tableBlock is how many rows are aligned together: the table is flushed
// after each block.
const tableBlock = 100

// tableList prints aligned columns, one row per record.
type tableList struct {
	out  io.Writer
	tw   *tabwriter.Writer
	rows int
}

func newTableList(out io.Writer) *tableList {
	t := &tableList{out: out, tw: tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)}
	fmt.Fprintln(t.tw, "FAILED AT\tPARTITION/OFFSET\tKEY\tTYPE\tREASON\tATTEMPTS\tORIGIN\tERROR")
	return t
}

func (t *tableList) print(r deadletter.Record) error {
	fmt.Fprintf(t.tw, "%s\t%d/%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.FailedAt, r.Partition, r.Offset, r.Key, r.Type, r.Reason, r.Attempts, r.Origin, shorten(r.Error, 80))
	if t.rows++; t.rows%tableBlock == 0 {
		return t.tw.Flush()
	}
	return nil
}

func (t *tableList) done(n, total int, topic string) error {
	if err := t.tw.Flush(); err != nil {
		return err
	}
	if n < total {
		_, err := fmt.Fprintf(t.out, "%d of %d record(s) on %s, the newest (--limit 0 lists them all)\n", n, total, topic)
		return err
	}
	_, err := fmt.Fprintf(t.out, "%d record(s) on %s\n", n, topic)
	return err
}

// jsonList prints a JSON array, one element per record.
type jsonList struct {
	w io.Writer
	n int
}

func (j *jsonList) print(r deadletter.Record) error {
	b, err := json.MarshalIndent(r, "  ", "  ")
	if err != nil {
		return err
	}
	sep := ",\n  "
	if j.n == 0 {
		sep = "[\n  "
	}
	j.n++
	_, err = fmt.Fprintf(j.w, "%s%s", sep, b)
	return err
}

func (j *jsonList) done(int, int, string) error {
	end := "\n]\n"
	if j.n == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(j.w, end)
	return err
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
