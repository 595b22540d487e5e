package participanttest

import (
	"context"
	"testing"
	"time"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/messaging/testdb"
)

// env is one subtest's database, seeded, and its participant.
type env struct {
	h  Harness
	db *testdb.DB
	p  Participant
}

func newEnv(t *testing.T, h Harness) *env {
	t.Helper()
	db, p := h.Open(t)
	h.Seed(t, db)
	return &env{h: h, db: db, p: p}
}

// action returns a delivery of the action for saga (see Harness.Command).
func (e *env) action(t *testing.T, saga string, refused bool, deadline time.Time) consumer.Delivery {
	t.Helper()
	return servicetest.NewDelivery(t, e.h.Step.Command, e.h.Step.CommandType, saga, e.h.Command(saga, refused, deadline))
}

// ok returns a delivery of an action for saga that succeeds.
func (e *env) ok(t *testing.T, saga string) consumer.Delivery {
	t.Helper()
	return e.action(t, saga, false, time.Time{})
}

// compensation returns a delivery of the compensation of saga.
func (e *env) compensation(t *testing.T, saga string) consumer.Delivery {
	t.Helper()
	return servicetest.NewDelivery(t, e.h.Step.Compensation, e.h.Step.CompensationType, saga, e.h.Compensation(saga))
}

// deliver applies each of ds in a transaction of its own, as the consumer
// applies a record, and fails the test when one fails.
func (e *env) deliver(t *testing.T, ds ...consumer.Delivery) {
	t.Helper()
	for _, d := range ds {
		if err := e.try(d); err != nil {
			t.Fatalf("deliver %s of %s: %v", d.Message.Type, d.Key, err)
		}
	}
}

// try applies d in a transaction of its own, as the consumer applies a
// record, and returns the handler's error.
func (e *env) try(d consumer.Delivery) error {
	return servicetest.Deliver(context.Background(), e.db.Pool, e.p.Handle, d)
}

// state returns the resources as the effects left them.
func (e *env) state(t *testing.T) string {
	t.Helper()
	return e.h.State(t, e.db)
}

// replies returns the answers written so far, oldest first.
func (e *env) replies(t *testing.T) []servicetest.Row {
	t.Helper()
	return servicetest.Outbox(t, e.db.Pool, e.h.Step.Replies, e.h.Step.Rejections)
}

// answer is what the suite checks of a reply: its saga and its type, and
// for a refusal its reason.
type answer struct {
	saga, typ, reason string
}

// answers returns the answers written so far, and checks that each is on
// the topic its type goes to.
func (e *env) answers(t *testing.T) []answer {
	t.Helper()
	var out []answer
	for _, r := range e.replies(t) {
		topic := e.h.Step.Replies
		if r.Message.Type == e.h.Step.RejectedType {
			topic = e.h.Step.Rejections
			if r.Reason != "rejected" {
				t.Errorf("refusal of %s has dlt-reason %q, want rejected", r.Key, r.Reason)
			}
		}
		if r.Topic != topic || r.Key != r.Message.SagaID {
			t.Errorf("%s of %s on %s keyed %s, want on %s keyed by its saga", r.Message.Type, r.Message.SagaID, r.Topic, r.Key, topic)
		}
		out = append(out, answer{saga: r.Message.SagaID, typ: r.Message.Type, reason: r.Error})
	}
	return out
}

// checkAnswers checks that the answers written so far are want.
func (e *env) checkAnswers(t *testing.T, want ...answer) {
	t.Helper()
	got := e.answers(t)
	if len(got) != len(want) {
		t.Fatalf("answers %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("answer %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// checkState checks that the resources are as want.
func (e *env) checkState(t *testing.T, what, want string) {
	t.Helper()
	if got := e.state(t); got != want {
		t.Errorf("%s: state\n\t%s\nwant\n\t%s", what, got, want)
	}
}

func (e *env) done(saga string) answer   { return answer{saga, e.h.Step.DoneType, ""} }
func (e *env) undone(saga string) answer { return answer{saga, e.h.Step.UndoneType, ""} }
func (e *env) rejected(saga, reason string) answer {
	return answer{saga, e.h.Step.RejectedType, reason}
}
