package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/purchase-saga/messaging/testbroker"
	"github.com/purchase-saga/messaging/testdb"
	"github.com/purchase-saga/migrations"
)

// saga show prints a timeline from the databases and brokers it is given,
// and says what it could not find (internal/timeline tests the rest).
func TestSagaShowPrintsTheTimelineOfAnOrderID(t *testing.T) {
	b := testbroker.New(t, 1, "stock", "stock.dlt")
	db := testdb.New(t, migrations.For(migrations.Order))
	var out bytes.Buffer
	err := run(context.Background(), []string{"saga", "show", "0193aaaa-0000-7000-8000-000000000000", "--db", "order=" + db.URL,
		"--brokers", strings.Join(b.Addrs, ",")}, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"no order row", "TIME (UTC)", "0 event(s)", "note: no order 0193aaaa", "note: stock database not given"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("saga show printed %q, want %q in it", out.String(), want)
		}
	}
	err = run(context.Background(), []string{"saga", "show", "--db", "order=" + db.URL}, &out, &out)
	if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "which saga?") {
		t.Errorf("saga show without an id: %v, want a usage error", err)
	}
}
