package outbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// errLeaseExpired says the leader went too long without hearing from its
// database to be sure it still holds the lock: it must not publish.
var errLeaseExpired = errors.New("outbox: relay lease expired")

// lease is the leader's connection and how long it may trust it: every
// successful round trip renews the lease from the moment the query was
// sent, and nothing is published once it has run out.
type lease struct {
	conn *pgx.Conn
	d    time.Duration
	// since is when the last successful query was sent.
	since time.Time
}

// ctx bounds work by the lease: its deadline is the lease's end.
func (l *lease) ctx(parent context.Context) (context.Context, context.CancelFunc, error) {
	end := l.since.Add(l.d)
	if !time.Now().Before(end) {
		return nil, nil, errLeaseExpired
	}
	ctx, cancel := context.WithDeadline(parent, end)
	return ctx, cancel, nil
}

// query runs fn, a round trip on the connection bounded by the lease's
// length, and renews the lease when it succeeds.
func (l *lease) query(ctx context.Context, fn func(context.Context, *pgx.Conn) error) error {
	sent := time.Now()
	qctx, cancel := context.WithTimeout(ctx, l.d)
	defer cancel()
	if err := fn(qctx, l.conn); err != nil {
		return err
	}
	l.since = sent
	return nil
}

func (l *lease) exec(ctx context.Context, sql string, args ...any) error {
	return l.query(ctx, func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, sql, args...)
		return err
	})
}

// connConfig is the relay's connection: keepalives on both ends and a TCP
// user timeout on the server's, so that a session whose client vanished
// (a host cut off, not a process that died) is dropped, and its advisory
// lock freed, in seconds rather than when TCP gives up after minutes or
// hours. The server waits four leases: a cut-off leader stops publishing
// after one, and a publish it started before then ends within another
// (its deadline, and the writer's own timeout, which is the lease's).
func (r *Relay) connConfig() (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(r.cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("outbox: relay database url: %w", err)
	}
	drop := 4 * r.cfg.Lease
	idle := max(drop/2, time.Second)
	cfg.RuntimeParams["tcp_user_timeout"] = strconv.FormatInt(drop.Milliseconds(), 10)
	cfg.RuntimeParams["tcp_keepalives_idle"] = strconv.Itoa(int(idle.Seconds()))
	cfg.RuntimeParams["tcp_keepalives_interval"] = "1"
	cfg.RuntimeParams["tcp_keepalives_count"] = strconv.Itoa(max(int((drop - idle).Seconds()), 1))
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "outbox-relay"
	}
	dialer := &net.Dialer{Timeout: r.cfg.Lease, KeepAlive: r.cfg.Lease}
	cfg.DialFunc = dialer.DialContext
	return cfg, nil
}
