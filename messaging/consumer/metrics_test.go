package consumer_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/messaging/servicetest"
)

func handledOf(t *testing.T, topic, outcome string) float64 {
	t.Helper()
	return servicetest.Counter(t, "saga_consumer_handled_total", map[string]string{"topic": topic, "outcome": outcome})
}

// Applied messages count once their transaction commits, never for an
// attempt rolled back; failures count at once.
func TestMetricsCountsAppliedMessagesOnlyOnceCommitted(t *testing.T) {
	const topic = "metrics-test"
	errFailed := errors.New("failed")
	h := consumer.Metrics(func(_ context.Context, _ pgx.Tx, d consumer.Delivery) error {
		switch d.Message.Type {
		case "test.poison":
			return consumer.Poison(errFailed)
		case "test.failed":
			return errFailed
		}
		return nil
	})
	deliver := func(ctx context.Context, msgType string) {
		d := delivery(t, msgType, nil)
		d.Topic = topic
		_ = h(ctx, nil, d)
	}
	applied := handledOf(t, topic, consumer.OutcomeApplied)
	poison := handledOf(t, topic, consumer.OutcomePoison)
	failed := handledOf(t, topic, consumer.OutcomeFailed)

	rolledBack, _ := postgres.WithTxHooks(context.Background())
	deliver(rolledBack, "test.ok")
	ctx, hooks := postgres.WithTxHooks(context.Background())
	deliver(ctx, "test.ok")
	deliver(ctx, "test.ok")
	deliver(ctx, "test.poison")
	deliver(ctx, "test.failed")
	if got := handledOf(t, topic, consumer.OutcomeApplied) - applied; got != 0 {
		t.Errorf("%v applied before any commit, want 0", got)
	}
	if got := handledOf(t, topic, consumer.OutcomePoison) - poison; got != 1 {
		t.Errorf("%v poison, want 1", got)
	}
	if got := handledOf(t, topic, consumer.OutcomeFailed) - failed; got != 1 {
		t.Errorf("%v failed, want 1", got)
	}
	hooks.Committed()
	if got := handledOf(t, topic, consumer.OutcomeApplied) - applied; got != 2 {
		t.Errorf("%v applied after the commit, want 2 (the rolled-back attempt not counted)", got)
	}
	deliver(context.Background(), "test.ok") // no transaction: counted at once
	if got := handledOf(t, topic, consumer.OutcomeApplied) - applied; got != 3 {
		t.Errorf("%v applied after a call outside a transaction, want 3", got)
	}
}
