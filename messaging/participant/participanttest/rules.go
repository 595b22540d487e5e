package participanttest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/participant"
	"github.com/purchase-saga/messaging/servicetest"
)

// An action delivered again (the same record) or replayed (a new message
// with the same data) has one effect, and every delivery is answered done
// with the same data.
func actionOnce(t *testing.T, e *env) {
	before := e.state(t)
	first := e.ok(t, "s1")
	e.deliver(t, first)
	after := e.state(t)
	if after == before {
		t.Fatalf("the action changed nothing: state %s", after)
	}
	e.deliver(t, first, e.ok(t, "s1"))
	e.checkState(t, "after the action delivered again and replayed", after)
	e.checkAnswers(t, e.done("s1"), e.done("s1"), e.done("s1"))
	rows := e.replies(t)
	for _, r := range rows[1:] {
		if !bytes.Equal(r.Message.Data, rows[0].Message.Data) {
			t.Errorf("a repeated action answered %s, the first %s", r.Message.Data, rows[0].Message.Data)
		}
	}
}

// A compensation undoes its action's effect once, however often it is
// delivered, and each delivery is acknowledged alike; the action replayed
// afterwards is refused as cancelled.
func compensationOnce(t *testing.T, e *env) {
	before := e.state(t)
	e.deliver(t, e.ok(t, "s1"), e.compensation(t, "s1"))
	e.checkState(t, "after the action and its compensation", before)
	e.deliver(t, e.compensation(t, "s1"))
	e.checkState(t, "after the compensation delivered again", before)
	e.deliver(t, e.ok(t, "s1"))
	e.checkState(t, "after the action replayed after its compensation", before)
	e.checkAnswers(t, e.done("s1"), e.undone("s1"), e.undone("s1"), e.rejected("s1", participant.ReasonCancelled))
	rows := e.replies(t)
	if !bytes.Equal(rows[1].Message.Data, rows[2].Message.Data) {
		t.Errorf("the compensation delivered again answered %s, the first %s", rows[2].Message.Data, rows[1].Message.Data)
	}
}

// A compensation that arrives before its action is acknowledged and leaves
// a tombstone: the action, when it comes, has no effect and is refused as
// cancelled, every time.
func tombstone(t *testing.T, e *env) {
	before := e.state(t)
	e.deliver(t, e.compensation(t, "s1"))
	e.checkState(t, "after a compensation with no action", before)
	e.deliver(t, e.ok(t, "s1"), e.ok(t, "s1"))
	e.checkState(t, "after an action whose compensation came first", before)
	e.checkAnswers(t, e.undone("s1"),
		e.rejected("s1", participant.ReasonCancelled), e.rejected("s1", participant.ReasonCancelled))
}

// A refused action records nothing: replayed once the service can do it,
// it succeeds (and its compensation then undoes it).
func notSticky(t *testing.T, e *env) {
	before := e.state(t)
	e.deliver(t, e.action(t, "s1", true, time.Time{}))
	e.checkState(t, "after a refused action", before)
	got := e.answers(t)
	if len(got) != 1 || got[0].typ != e.h.Step.RejectedType {
		t.Fatalf("answers to a refused action %+v, want one %s", got, e.h.Step.RejectedType)
	}
	if r := got[0].reason; r == "" || r == participant.ReasonCancelled || r == participant.ReasonExpired {
		t.Errorf("refused with reason %q, want the service's own", r)
	}
	e.h.Allow(t, e.db)
	allowed := e.state(t)
	e.deliver(t, e.action(t, "s1", true, time.Time{}))
	if e.state(t) == allowed {
		t.Errorf("the replayed action changed nothing: state %s", allowed)
	}
	e.deliver(t, e.compensation(t, "s1"))
	e.checkState(t, "after the replayed action's compensation", allowed)
	e.checkAnswers(t, got[0], e.done("s1"), e.undone("s1"))
}

// The compensation of a refused action is acknowledged and changes
// nothing; the action replayed afterwards is cancelled.
func compensateRefused(t *testing.T, e *env) {
	before := e.state(t)
	e.deliver(t, e.action(t, "s1", true, time.Time{}))
	refusal := e.answers(t)[0]
	e.deliver(t, e.compensation(t, "s1"))
	e.checkState(t, "after the compensation of a refused action", before)
	e.h.Allow(t, e.db)
	allowed := e.state(t)
	e.deliver(t, e.action(t, "s1", true, time.Time{}))
	e.checkState(t, "after the action replayed after its compensation", allowed)
	e.checkAnswers(t, refusal, e.undone("s1"), e.rejected("s1", participant.ReasonCancelled))
}

// A batch (Lock, then each message, in one transaction) holding actions
// and their compensations in either order, twice delivered ones and
// expired ones leaves the state and the answers that the same messages
// give one at a time.
func batch(t *testing.T, e *env) {
	messages := func(e *env) []func(*testing.T) consumer.Delivery {
		past := time.Now().Add(-time.Minute)
		return []func(*testing.T) consumer.Delivery{
			func(t *testing.T) consumer.Delivery { return e.ok(t, "a") },
			func(t *testing.T) consumer.Delivery { return e.compensation(t, "a") }, // undoes a
			func(t *testing.T) consumer.Delivery { return e.compensation(t, "b") }, // a tombstone
			func(t *testing.T) consumer.Delivery { return e.ok(t, "b") },           // cancelled
			func(t *testing.T) consumer.Delivery { return e.ok(t, "c") },
			func(t *testing.T) consumer.Delivery { return e.ok(t, "c") }, // answered as the first
			func(t *testing.T) consumer.Delivery { return e.action(t, "d", true, time.Time{}) },
			func(t *testing.T) consumer.Delivery { return e.compensation(t, "d") },
			func(t *testing.T) consumer.Delivery { return e.action(t, "x", false, past) }, // expired
			func(t *testing.T) consumer.Delivery { return e.ok(t, "x") },
		}
	}
	var ds []consumer.Delivery
	for _, m := range messages(e) {
		ds = append(ds, m(t))
	}
	if err := servicetest.ApplyBatch(e.db.Pool, e.p.Lock, e.p.Handle, ds...); err != nil {
		t.Fatal(err)
	}
	alone := newEnv(t, e.h)
	for _, m := range messages(alone) {
		alone.deliver(t, m(t))
	}
	e.checkState(t, "after one batch (want: as after one message at a time)", alone.state(t))
	got, want := e.answers(t), alone.answers(t)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("answers after one batch\n\t%+v\nafter one message at a time\n\t%+v", got, want)
	}
	if len(got) != 10 || got[3] != e.rejected("b", participant.ReasonCancelled) || got[5] != e.done("c") ||
		got[8] != e.rejected("x", participant.ReasonExpired) || got[9] != e.done("x") {
		t.Errorf("answers after one batch %+v: want b cancelled, c done twice, x expired then done", got)
	}
}

// An action that arrives after its saga's deadline is refused as expired
// and changes nothing, so that it may still succeed when replayed within
// one; one already applied is answered as before whatever the clock says.
func deadline(t *testing.T, e *env) {
	before := e.state(t)
	e.deliver(t, e.action(t, "late", false, time.Now().Add(-time.Second)))
	e.checkState(t, "after an expired action", before)
	e.deliver(t, e.action(t, "late", false, time.Now().Add(time.Minute)))
	after := e.state(t)
	if after == before {
		t.Errorf("the action within its deadline changed nothing")
	}
	e.deliver(t, e.action(t, "late", false, time.Now().Add(-time.Second)))
	e.checkState(t, "after the applied action delivered again past its deadline", after)
	e.checkAnswers(t, e.rejected("late", participant.ReasonExpired), e.done("late"), e.done("late"))
}

// Actions and compensations of the same sagas applied at once, each in a
// transaction of its own: whichever comes first, nothing stays done, and
// each saga is answered done and undone, or undone and cancelled.
func racing(t *testing.T, e *env) {
	servicetest.Widen(t, e.db, 8)
	before := e.state(t)
	const sagas = 12
	errs := servicetest.Race(2*sagas, func(i int) error {
		saga := fmt.Sprintf("s%d", i/2)
		if i%2 == 0 {
			return e.try(e.ok(t, saga))
		}
		return e.try(e.compensation(t, saga))
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("delivery %d: %v", i, err)
		}
	}
	e.checkState(t, "after every saga's action and compensation", before)
	per := map[string][]answer{}
	for _, a := range e.answers(t) {
		per[a.saga] = append(per[a.saga], a)
	}
	for i := range sagas {
		saga := fmt.Sprintf("s%d", i)
		got := fmt.Sprint(per[saga])
		if got != fmt.Sprint([]answer{e.done(saga), e.undone(saga)}) &&
			got != fmt.Sprint([]answer{e.undone(saga), e.rejected(saga, participant.ReasonCancelled)}) {
			t.Errorf("%s answered %s, want done and undone, or undone and cancelled", saga, got)
		}
	}
}
