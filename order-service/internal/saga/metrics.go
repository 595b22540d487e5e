package saga

import (
	"context"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/messaging/dlt"
	mpostgres "github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/order-service/internal/order"
)

var (
	placed = promauto.NewCounter(prometheus.CounterOpts{
		Name: "saga_orders_placed_total",
		Help: "Orders placed.",
	})
	soldOut = promauto.NewCounter(prometheus.CounterOpts{
		Name: "saga_orders_sold_out_total",
		Help: "Orders refused at once (409) because the catalog showed too little stock.",
	})
	spokenFor = promauto.NewCounter(prometheus.CounterOpts{
		Name: "saga_orders_spoken_for_total",
		Help: "Orders answered 429 because the units the catalog shows are spoken for by orders still in flight.",
	})
	ended = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "saga_orders_ended_total",
		Help: "Orders that became terminal, by status and class of failure reason (a known business reason, timeout, error, poison or other).",
	}, []string{"status", "reason"})
	compensationsSent = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "saga_compensations_sent_total",
		Help: "Compensations sent (stock.release, payment.refund), by step, counted once their transaction committed: a step that succeeded for an order that failed.",
	}, []string{"step"})
	compensationsDone = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "saga_compensations_done_total",
		Help: "Compensations their participant acknowledged (stock.released, payment.refunded), by step: the step became COMPENSATED. Sent minus done is what is still being compensated.",
	}, []string{"step"})
	sagaSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "saga_order_duration_seconds",
		Help:    "Time from placing an order to its terminal state.",
		Buckets: []float64{.005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	})
)

// reasonClasses are the values of saga_orders_ended_total's reason label:
// the business reasons the participants give, the timeout, and the
// classes of technical failure. Anything else is "other", so that the
// label's values stay few whatever a reply says.
var reasonClasses = []string{
	stockmsg.ReasonOutOfStock, stockmsg.ReasonUnknownItem, stockmsg.ReasonCurrencyMismatch, stockmsg.ReasonCancelled,
	stockmsg.ReasonExpired,
	paymentmsg.ReasonInsufficientFunds, paymentmsg.ReasonUnknownAccount,
	order.ReasonTimeout, dlt.ReasonError, dlt.ReasonPoison, "other",
}

func init() {
	ended.WithLabelValues(string(order.Completed), "")
	for _, r := range reasonClasses {
		ended.WithLabelValues(string(order.Failed), r)
	}
	for _, step := range defaultSteps.Names() {
		compensationsSent.WithLabelValues(string(step))
		compensationsDone.WithLabelValues(string(step))
	}
}

// countSent counts the compensations of steps once ctx's transaction
// commits.
func countSent(ctx context.Context, steps []order.StepName) {
	for _, step := range steps {
		mpostgres.AfterCommit(ctx, compensationsSent.WithLabelValues(string(step)).Inc)
	}
}

// countDone counts, once ctx's transaction commits, the compensation
// reply acknowledged when d shows it changed its step (not a duplicate).
func countDone(ctx context.Context, reply order.Reply, d order.Decision) {
	if d.Changed && reply.Outcome == order.Compensated {
		mpostgres.AfterCommit(ctx, compensationsDone.WithLabelValues(string(reply.Step)).Inc)
	}
}

// ReasonClass maps a failure reason ("out_of_stock", "timeout",
// "error: handle stock.reserve 0193…: …") to its label value.
func ReasonClass(reason string) string {
	head, _, _ := strings.Cut(reason, ":")
	if slices.Contains(reasonClasses, head) {
		return head
	}
	return "other"
}

// ended records an order that became terminal, in the metrics and for
// the admission controller; called once its transaction committed.
func (s *Saga) ended(o order.Order) {
	reason := ""
	if o.Status == order.Failed {
		reason = ReasonClass(o.FailureReason)
	}
	ended.WithLabelValues(string(o.Status), reason).Inc()
	if s.Waiter != nil {
		s.Waiter.Ended(o)
	}
	latency := o.UpdatedAt.Sub(o.CreatedAt)
	sagaSeconds.Observe(latency.Seconds())
	if s.Admission != nil && o.FailureReason != order.ReasonTimeout {
		// A timeout says nothing of how fast sagas end now: the sweep's
		// own pace decides when it is noticed.
		s.Admission.Observe(latency)
	}
}
