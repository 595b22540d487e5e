package service

import (
	"runtime"
	"runtime/debug"
	"strconv"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var buildInfo = promauto.NewGaugeVec(prometheus.GaugeOpts{
	Name: "saga_build_info",
	Help: "Always 1: the service's name, its module version, VCS revision and the Go version it was built with.",
}, []string{"service", "version", "revision", "go_version"})

// linkedRevision is the VCS revision for builds Go does not stamp with
// one (workspace builds, and sources without .git, as in the image):
// make build sets it (-ldflags -X
// github.com/purchase-saga/messaging/service.linkedRevision=…).
var linkedRevision string

// setBuildInfo sets saga_build_info for service from the binary's build
// information.
func setBuildInfo(service string) {
	version, revision := "unknown", "unknown"
	if linkedRevision != "" {
		revision = linkedRevision
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		var modified bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if modified && revision != "unknown" {
			revision += "-modified"
		}
	}
	buildInfo.WithLabelValues(service, version, revision, runtime.Version()).Set(1)
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	leaderDesc = desc("saga_outbox_relay_leader",
		"1 while this instance's outbox relay holds the database's relay lock and publishes, else 0.")
	lagDesc = desc("saga_consumer_lag",
		"Records of a partition the consumer group has not committed yet (high watermark minus committed offset), read from the broker every few seconds.",
		"group", "topic", "partition")
	dltDepthDesc = desc("saga_dlt_records",
		"Records held in a dead-letter topic this service writes (high minus low watermark, over its partitions), read from the broker every few seconds.",
		"topic")

	poolAcquiredDesc     = desc("saga_db_pool_acquired_conns", "Connections of the service's pool in use.")
	poolIdleDesc         = desc("saga_db_pool_idle_conns", "Idle connections of the service's pool.")
	poolTotalDesc        = desc("saga_db_pool_total_conns", "Connections of the service's pool: in use, idle and being opened.")
	poolMaxDesc          = desc("saga_db_pool_max_conns", "Most connections the service's pool opens (DB_MAX_CONNS).")
	poolAcquiresDesc     = desc("saga_db_pool_acquires_total", "Connections taken from the service's pool.")
	poolAcquireSecsDesc  = desc("saga_db_pool_acquire_seconds_total", "Time spent taking connections from the service's pool, waits included.")
	poolEmptyDesc        = desc("saga_db_pool_empty_acquires_total", "Acquires that waited because the service's pool had no idle connection.")
	poolEmptyWaitDesc    = desc("saga_db_pool_empty_acquire_wait_seconds_total", "Time acquires waited because the service's pool had no idle connection.")
	poolCanceledDesc     = desc("saga_db_pool_canceled_acquires_total", "Acquires given up because their context ended first.")
	poolConstructingDesc = desc("saga_db_pool_constructing_conns", "Connections of the service's pool being opened.")
)

// instanceCollector reports, at each scrape, what only this instance
// knows: whether its relay leads, its pool's statistics, and the consumer
// lag and dead-letter depth its poller last read from the broker.
type instanceCollector struct {
	leads  *atomic.Bool
	pool   *pgxpool.Pool
	broker *offsetsPoller
}

func (c instanceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{leaderDesc, lagDesc, dltDepthDesc,
		poolAcquiredDesc, poolIdleDesc, poolTotalDesc, poolMaxDesc, poolAcquiresDesc, poolAcquireSecsDesc,
		poolEmptyDesc, poolEmptyWaitDesc, poolCanceledDesc, poolConstructingDesc} {
		ch <- d
	}
}

func (c instanceCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	leads := 0.0
	if c.leads.Load() {
		leads = 1
	}
	gauge(leaderDesc, leads)

	st := c.pool.Stat()
	gauge(poolAcquiredDesc, float64(st.AcquiredConns()))
	gauge(poolIdleDesc, float64(st.IdleConns()))
	gauge(poolTotalDesc, float64(st.TotalConns()))
	gauge(poolMaxDesc, float64(st.MaxConns()))
	gauge(poolConstructingDesc, float64(st.ConstructingConns()))
	counter(poolAcquiresDesc, float64(st.AcquireCount()))
	counter(poolAcquireSecsDesc, st.AcquireDuration().Seconds())
	counter(poolEmptyDesc, float64(st.EmptyAcquireCount()))
	counter(poolEmptyWaitDesc, st.EmptyAcquireWaitTime().Seconds())
	counter(poolCanceledDesc, float64(st.CanceledAcquireCount()))

	lags, depth, ok := c.broker.last()
	if !ok {
		return // not read yet: no figure rather than a made-up zero
	}
	for _, l := range lags {
		gauge(lagDesc, float64(l.lag), l.group, l.topic, strconv.Itoa(l.partition))
	}
	for t, n := range depth {
		gauge(dltDepthDesc, float64(n), t)
	}
}
