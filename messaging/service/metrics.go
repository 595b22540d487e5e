package service

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/purchase-saga/messaging/outbox"
)

var (
	outboxPendingDesc = prometheus.NewDesc("saga_outbox_pending_rows",
		"Outbox rows committed and not yet published.", nil, nil)
	outboxAgeDesc = prometheus.NewDesc("saga_outbox_oldest_pending_seconds",
		"Age of the oldest unpublished outbox row; 0 when none.", nil, nil)
	outboxFailedDesc = prometheus.NewDesc("saga_outbox_failed_rows",
		"Outbox rows set aside because the broker refuses them; `sagactl outbox retry` queues them again.", nil, nil)
)

// outboxCollector reads the outbox's backlog from the database at each
// scrape, so that every instance reports the database's figures whichever
// instance's relay leads.
type outboxCollector struct{ pool *pgxpool.Pool }

func (c outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxPendingDesc
	ch <- outboxAgeDesc
	ch <- outboxFailedDesc
}

func (c outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := outbox.ReadStatus(ctx, c.pool)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(outboxPendingDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(outboxPendingDesc, prometheus.GaugeValue, float64(st.Unpublished))
	ch <- prometheus.MustNewConstMetric(outboxAgeDesc, prometheus.GaugeValue, st.OldestAge.Seconds())
	ch <- prometheus.MustNewConstMetric(outboxFailedDesc, prometheus.GaugeValue, float64(st.Failed))
}
