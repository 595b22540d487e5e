package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/retry"
)

// lead connects, waits to win the lock and publishes until the connection
// fails or ctx ends. led reports whether it ever held the lock.
func (r *Relay) lead(ctx context.Context, log *slog.Logger) (led bool, err error) {
	cfg, err := r.connConfig()
	if err != nil {
		return false, err
	}
	conn, err := r.connect(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if err := r.acquire(ctx, conn); err != nil {
		return false, err
	}
	log.Info("relay is leader")
	defer log.Info("relay stepped down")
	if r.cfg.OnLeader != nil {
		r.cfg.OnLeader(true)
		defer r.cfg.OnLeader(false)
	}
	r.failures = 0 // a new lead starts with a fresh backoff
	l := &lease{conn: conn, d: r.cfg.Lease}
	if err := l.exec(ctx, "LISTEN "+Channel); err != nil {
		return true, fmt.Errorf("listen: %w", err)
	}
	if err := r.readPosition(ctx, l); err != nil {
		return true, err
	}
	return true, r.publishLoop(ctx, l)
}

func (r *Relay) connect(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, r.cfg.Lease)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	return conn, nil
}

func (r *Relay) acquire(ctx context.Context, conn *pgx.Conn) error {
	for {
		r.healthy()
		var ok bool
		qctx, cancel := context.WithTimeout(ctx, r.cfg.Lease)
		err := conn.QueryRow(qctx, `SELECT pg_try_advisory_lock($1)`, r.cfg.LockKey).Scan(&ok)
		cancel()
		if err != nil {
			return fmt.Errorf("try lock: %w", err)
		}
		if ok {
			return nil
		}
		if err := retry.Wait(ctx, r.cfg.RetryInterval); err != nil {
			return err
		}
	}
}
