package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/cmd/sagactl/internal/timeline"
	"github.com/purchase-saga/messaging/postgres"
)

// sagaShow prints one saga's timeline: its order and steps, every outbox
// row and record it caused, its dead letters (the console's saga page
// shows the same).
func sagaShow(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("saga show")
	var src sourceFlags
	src.register(fs)
	id, rest := "", args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, rest = args[0], args[1:]
	}
	if err := parse(fs, rest, out); err != nil {
		return err
	}
	if id == "" {
		return usageError("which saga? give its order id")
	}
	s, closeAll, err := src.open(ctx, 1)
	if err != nil {
		return err
	}
	defer closeAll()
	tl, err := timeline.Load(ctx, s, id)
	if err != nil {
		return err
	}
	return tl.WriteText(out)
}

// sourceFlags name the databases and brokers a timeline or the console
// reads.
type sourceFlags struct {
	dbs     dbList
	brokers *string
}

func (s *sourceFlags) register(fs *flag.FlagSet) {
	fs.Var(&s.dbs, "db", "NAME=URL of a service's database: order, stock, payment (repeatable; default: ORDER_/STOCK_/PAYMENT_DATABASE_URL)")
	s.brokers = brokersFlag(fs)
}

// open connects to the databases (pools of at most conns connections).
func (s *sourceFlags) open(ctx context.Context, conns int32) (timeline.Sources, func(), error) {
	specs, err := databaseSpecs(s.dbs)
	if err != nil {
		return timeline.Sources{}, nil, err
	}
	src := timeline.Sources{DBs: map[string]*pgxpool.Pool{}, Brokers: broker.Split(*s.brokers)}
	closeAll := func() {
		for _, p := range src.DBs {
			p.Close()
		}
	}
	for _, d := range specs {
		pool, err := postgres.Connect(ctx, d.url, conns)
		if err != nil {
			closeAll()
			return src, nil, fmt.Errorf("%s database: %w", d.name, err)
		}
		src.DBs[d.name] = pool
	}
	return src, closeAll, nil
}

// database is a --db NAME=URL.
type database struct{ name, url string }

// databaseSpecs reads --db NAME=URL flags, or, when there are none, the
// ORDER_, STOCK_ and PAYMENT_DATABASE_URL variables that are set.
func databaseSpecs(dbs dbList) ([]database, error) {
	if len(dbs) == 0 {
		for _, name := range timeline.DatabaseNames {
			if u := os.Getenv(strings.ToUpper(name) + "_DATABASE_URL"); u != "" {
				dbs = append(dbs, name+"="+u)
			}
		}
	}
	if len(dbs) == 0 {
		return nil, usageError("no database: give --db NAME=URL or set ORDER_DATABASE_URL, STOCK_DATABASE_URL, PAYMENT_DATABASE_URL")
	}
	var out []database
	for _, spec := range dbs {
		name, url, ok := strings.Cut(spec, "=")
		if !ok || name == "" {
			return nil, usageError(fmt.Sprintf("--db %q: want NAME=URL", spec))
		}
		out = append(out, database{name, url})
	}
	return out, nil
}
