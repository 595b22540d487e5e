package handler_test

import (
	"testing"

	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/servicetest"

	"github.com/purchase-saga/contract/stockmsg"
)

func TestReleaseGivesBackOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.item(t, "a", 5)
	e.item(t, "b", 5)
	e.MustDeliver(t, reserve(t, "o1", line("a", 2), line("b", 3)))
	before := len(e.Outbox(t, topic.Items))

	e.MustDeliver(t, release(t, "o1"))
	e.MustDeliver(t, release(t, "o1"))

	for _, id := range []string{"a", "b"} {
		it := e.get(t, id)
		if it.Reserved != 0 || it.OnHand != 5 {
			t.Errorf("%s: reserved %d on hand %d, want 0 and 5", id, it.Reserved, it.OnHand)
		}
	}
	if got, want := e.status(t, "o1"), "RELEASED"; got != want {
		t.Errorf("status = %q, want %q", got, want)
	}
	updates := e.Outbox(t, topic.Items)[before:]
	if len(updates) != 2 {
		t.Errorf("item.updated rows from two releases = %d, want 2 (one per item, once)", len(updates))
	}
	for _, u := range updates {
		if got := servicetest.Data[stockmsg.ItemUpdated](t, u.Message).Available; got != 5 {
			t.Errorf("%s available after release = %d, want 5", u.Key, got)
		}
	}
	replies := e.replies(t)
	if len(replies) != 3 || replies[1].Message.Type != stockmsg.TypeReleased || replies[2].Message.Type != stockmsg.TypeReleased {
		t.Errorf("replies = %+v, want reserved, released, released", replies)
	}

	e.MustDeliver(t, reserve(t, "o1", line("a", 1)))
	if got := e.get(t, "a").Reserved; got != 0 {
		t.Errorf("reserved after reserve following release = %d, want 0", got)
	}
	assertRejected(t, e.replies(t)[3:], "o1", stockmsg.ReasonCancelled, "")
}
