package saga

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	placed = promauto.NewCounter(prometheus.CounterOpts{
		Name: "saga_orders_placed_total",
		Help: "Orders placed.",
	})
	ended = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "saga_orders_ended_total",
		Help: "Orders that became terminal, by status and failure reason.",
	}, []string{"status", "reason"})
	sagaSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "saga_order_duration_seconds",
		Help:    "Time from placing an order to its terminal state.",
		Buckets: []float64{.005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	})
)
