package consumer_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/consumer"
)

type created struct {
	ID    string `json:"id"`
	Count int    `json:"count"`
}

type removed struct {
	ID string `json:"id"`
}

// routed records which route ran and with what data.
type routed struct {
	route   string
	created created
	removed removed
}

func testRoutes(got *routed) consumer.Handler {
	return consumer.Routes(
		consumer.Route("test.created", func(_ context.Context, _ pgx.Tx, _ consumer.Delivery, data created) error {
			got.route, got.created = "created", data
			return nil
		}),
		consumer.RouteCorrelated("test.removed", func(r removed) string { return r.ID },
			func(_ context.Context, _ pgx.Tx, _ consumer.Delivery, data removed) error {
				got.route, got.removed = "removed", data
				return nil
			}),
		consumer.Ignore("test.noticed"),
	)
}

func TestRoutesHandEachTypeItsDecodedData(t *testing.T) {
	var got routed
	h := testRoutes(&got)
	if err := h(context.Background(), nil, delivery(t, "test.created", created{ID: "a", Count: 3})); err != nil {
		t.Fatalf("created: %v", err)
	}
	if got.route != "created" || got.created != (created{ID: "a", Count: 3}) {
		t.Errorf("created went to %q with %+v", got.route, got.created)
	}
	d := delivery(t, "test.removed", nil)
	d.Message.Data = []byte(`{"id":"` + d.Message.SagaID + `"}`)
	if err := h(context.Background(), nil, d); err != nil {
		t.Fatalf("removed: %v", err)
	}
	if got.route != "removed" || got.removed.ID != d.Message.SagaID {
		t.Errorf("removed went to %q with %+v", got.route, got.removed)
	}
	got = routed{}
	if err := h(context.Background(), nil, delivery(t, "test.noticed", created{ID: "b"})); err != nil {
		t.Errorf("an ignored type: %v, want nil", err)
	}
	if got.route != "" {
		t.Errorf("an ignored type went to %q", got.route)
	}
}

func TestRoutesRefuseWhatTheyCannotHandleAsPoison(t *testing.T) {
	for _, tc := range []struct {
		name    string
		msgType string
		data    string
		want    string
	}{
		{"unknown type", "test.unheard-of", `{}`, `unknown message type "test.unheard-of" on in`},
		{"data that does not decode", "test.created", `{"count":"three"}`, "test.created data"},
		{"data not an object", "test.created", `[1]`, "test.created data"},
		{"data naming no saga", "test.removed", `{}`, "without its saga id"},
		{"data naming another saga", "test.removed", `{"id":"other"}`, `carries saga_id`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got routed
			d := delivery(t, tc.msgType, nil)
			d.Message.Data = []byte(tc.data)
			err := testRoutes(&got)(context.Background(), nil, d)
			if !errors.Is(err, consumer.ErrPoison) {
				t.Fatalf("error %v, want poison", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if got.route != "" {
				t.Errorf("route %q ran", got.route)
			}
		})
	}
}

func TestRoutesPassTheRoutesErrorOn(t *testing.T) {
	errBusy := errors.New("busy")
	h := consumer.Routes(consumer.Route("test.created", func(context.Context, pgx.Tx, consumer.Delivery, created) error {
		return errBusy
	}))
	err := h(context.Background(), nil, delivery(t, "test.created", created{ID: "a"}))
	if err != errBusy {
		t.Errorf("error %v, want the route's own, to be retried", err)
	}
}

func TestRoutesPanicOnAMistakeInTheWiring(t *testing.T) {
	nop := func(context.Context, pgx.Tx, consumer.Delivery, created) error { return nil }
	for name, routes := range map[string][]consumer.MessageRoute{
		"two routes for one type": {consumer.Route("test.created", nop), consumer.Ignore("test.created")},
		"a route without a type":  {{}},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("Routes accepted them")
				}
			}()
			consumer.Routes(routes...)
		})
	}
}
