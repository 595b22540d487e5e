package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
)

// analyze runs ANALYZE in each database of urls (comma-separated), as
// autovacuum does within its first minute on a deployment: without it, a
// run shorter than that measures the plans that statements prepared on the
// empty tables of a fresh database keep (whole-table scans of tables that
// have since grown), which an established deployment never runs.
func analyze(ctx context.Context, urls string) error {
	for _, u := range strings.Split(urls, ",") {
		if u = strings.TrimSpace(u); u == "" {
			continue
		}
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
		_, err = conn.Exec(ctx, "ANALYZE")
		conn.Close(context.WithoutCancel(ctx))
		if err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
	}
	fmt.Fprintln(os.Stderr, "analyzed the databases, as autovacuum would have")
	return nil
}
