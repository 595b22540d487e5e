package consumer

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/purchase-saga/messaging/dlt"
	"github.com/purchase-saga/messaging/postgres"
)

var (
	consumed = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "saga_consumer_messages_total",
		Help: "Messages applied and committed, per topic.",
	}, []string{"topic"})
	handled = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "saga_consumer_handled_total",
		Help: "Handler calls per topic and outcome: applied (counted once its transaction committed), poison and failed (counted per attempt).",
	}, []string{"topic", "outcome"})
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

// Outcomes of a handler call, the outcome label of saga_consumer_handled_total.
const (
	OutcomeApplied = "applied"
	OutcomePoison  = "poison"
	OutcomeFailed  = "failed"
)

// conflictCodes are the SQLSTATEs saga_consumer_conflicts_total counts
// (postgres.IsConflict): deadlock and serialization failure.
var conflictCodes = []string{"40P01", "40001"}

// RegisterTopics creates every labelled series of the consumer metrics
// for topics at zero, so that a topic shows (and a rate over it starts)
// before its first message, retry or dead letter. The services call it
// for the topics they consume (service.Consume).
func RegisterTopics(topics ...string) {
	for _, t := range topics {
		consumed.WithLabelValues(t)
		duplicates.WithLabelValues(t)
		retries.WithLabelValues(t)
		for _, o := range []string{OutcomeApplied, OutcomePoison, OutcomeFailed} {
			handled.WithLabelValues(t, o)
		}
		for _, code := range conflictCodes {
			conflicts.WithLabelValues(t, code)
		}
		// A rejection goes out through the outbox, not as a dead letter of
		// the consumer's: only these two reasons are counted here.
		for _, r := range []string{dlt.ReasonError, dlt.ReasonPoison} {
			deadLettered.WithLabelValues(t, r)
		}
	}
}

// Metrics counts next's calls in saga_consumer_handled_total by topic and
// outcome. An applied message is counted once its transaction commits
// (postgres.AfterCommit), so that a batch rolled back for a neighbour's
// sake and applied again is counted once; a failure is counted at once,
// per attempt, as its transaction never commits. Every consumer runs its
// handler inside it.
func Metrics(next Handler) Handler {
	return func(ctx context.Context, tx pgx.Tx, d Delivery) error {
		err := next(ctx, tx, d)
		switch {
		case err == nil:
			countApplied(ctx, d.Topic)
		case isPoison(err):
			handled.WithLabelValues(d.Topic, OutcomePoison).Inc()
		default:
			handled.WithLabelValues(d.Topic, OutcomeFailed).Inc()
		}
		return err
	}
}

// appliedKey keys a transaction's appliedTally (postgres.TxValue).
type appliedKey struct{}

// appliedTally counts a transaction's applied messages per topic, added
// to the counter in one go when it commits: one hook per transaction, not
// one per message.
type appliedTally struct {
	topics []string
	counts []int
}

func countApplied(ctx context.Context, topic string) {
	v, ok := postgres.TxValue(ctx, appliedKey{})
	t, _ := v.(*appliedTally)
	if !ok {
		t = &appliedTally{}
		if !postgres.SetTxValue(ctx, appliedKey{}, t) {
			// Outside a transaction's hooks: nothing will say it committed.
			handled.WithLabelValues(topic, OutcomeApplied).Inc()
			return
		}
		postgres.AfterCommit(ctx, t.flush)
	}
	t.add(topic)
}

func (t *appliedTally) add(topic string) {
	for i, known := range t.topics {
		if known == topic {
			t.counts[i]++
			return
		}
	}
	t.topics = append(t.topics, topic)
	t.counts = append(t.counts, 1)
}

func (t *appliedTally) flush() {
	for i, topic := range t.topics {
		handled.WithLabelValues(topic, OutcomeApplied).Add(float64(t.counts[i]))
	}
}
