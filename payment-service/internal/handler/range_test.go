package handler_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/messaging/consumer"
)

// A charge for a customer id that no account can have is poison at once:
// nothing is taken, nothing is answered, nothing is retried.
func TestOutOfRangeChargesArePoison(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for name, customer := range map[string]string{
		"customer id of 129 characters": strings.Repeat("c", 129),
		"customer id of 230 KB":         strings.Repeat("c", 230_000),
		"NUL in customer id":            "c\x00",
	} {
		t.Run(name, func(t *testing.T) {
			if err := e.Deliver(charge(t, "o1", customer, 100)); !errors.Is(err, consumer.ErrPoison) {
				t.Errorf("err = %v, want one wrapping consumer.ErrPoison", err)
			}
		})
	}
	if got := e.replies(t); len(got) != 0 {
		t.Errorf("poison answered with %+v, want no reply", got)
	}
}

// A refusal's detail is short: at most 200 bytes of whole characters,
// even for the longest customer id in four-byte characters.
func TestRejectionDetailIsShort(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	customer := strings.Repeat("😀", 128)
	e.account(t, customer, 10)
	e.MustDeliver(t, charge(t, "o1", strings.Repeat("é", 128), 100))
	e.MustDeliver(t, charge(t, "o2", customer, 100))
	replies := e.replies(t)
	if got, want := len(replies), 2; got != want {
		t.Fatalf("%d replies, want %d", got, want)
	}
	for _, r := range replies {
		var rej paymentmsg.Rejected
		if err := json.Unmarshal(r.Message.Data, &rej); err != nil {
			t.Fatal(err)
		}
		if rej.Reason == "" || len(rej.Detail) > 200 || !utf8.ValidString(rej.Detail) {
			t.Errorf("rejection %q: detail of %d bytes (valid UTF-8 %v), want a reason and at most 200 bytes",
				rej.Reason, len(rej.Detail), utf8.ValidString(rej.Detail))
		}
	}
}
