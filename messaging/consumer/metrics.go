package consumer

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	consumed = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "saga_consumer_messages_total",
		Help: "Messages applied and committed, per topic.",
	}, []string{"topic"})
	duplicates = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "saga_consumer_duplicates_total",
		Help: "Messages skipped because the inbox had already recorded them.",
	}, []string{"topic"})
	retries = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "saga_consumer_retries_total",
		Help: "Retries of failed batches or messages.",
	}, []string{"topic"})
	conflicts = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "saga_consumer_conflicts_total",
		Help: "Batches that lost a race with another transaction, per topic and SQLSTATE (40P01 deadlock, 40001 serialization failure).",
	}, []string{"topic", "code"})
	deadLettered = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "saga_consumer_dead_letters_total",
		Help: "Messages sent to a dead-letter topic, per source topic and reason.",
	}, []string{"topic", "reason"})
)
