package admission

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	limitGauge = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "saga_admission_limit",
		Help: "Sagas in flight this instance admits up to (learnt from saga latency).",
	})
	inFlightGauge = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "saga_admission_in_flight",
		Help: "Sagas in flight in the whole deployment, as last counted in the database.",
	})
	latencyGauge = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "saga_admission_latency_seconds",
		Help: "Saga latency (POST to terminal) the limit was last adjusted to: the median of the sagas that ended, or the oldest one's age when none did.",
	})
	targetGauge = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "saga_admission_target_seconds",
		Help: "Saga latency the admission limit aims under (ADMISSION_TARGET): saga_admission_latency_seconds above it shrinks the limit.",
	})
	refused = promauto.NewCounter(prometheus.CounterOpts{
		Name: "saga_admission_refused_total",
		Help: "Orders refused with 429 because the sagas in flight were at the limit.",
	})
)
