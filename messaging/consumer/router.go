package consumer

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// MessageRoute is how Routes handles one message type: made by Route,
// RouteCorrelated or Ignore.
type MessageRoute struct {
	msgType string
	handle  Handler
}

// Route handles messages of msgType with fn, given their data decoded
// into a T: a service writes one typed function per message type instead
// of a type switch and its decoding. Data that does not decode into a T is
// poison, as DecodeData has it.
func Route[T any](msgType string, fn func(ctx context.Context, tx pgx.Tx, d Delivery, data T) error) MessageRoute {
	return MessageRoute{msgType: msgType, handle: func(ctx context.Context, tx pgx.Tx, d Delivery) error {
		var data T
		if err := d.Message.DecodeData(&data); err != nil {
			return Poison(err)
		}
		return fn(ctx, tx, d, data)
	}}
}

// RouteCorrelated is Route for data that names its saga, sagaID(data):
// a message whose data names none, or another saga than its envelope, is
// poison, as DecodeData has it.
func RouteCorrelated[T any](msgType string, sagaID func(T) string, fn func(ctx context.Context, tx pgx.Tx, d Delivery, data T) error) MessageRoute {
	return Route(msgType, func(ctx context.Context, tx pgx.Tx, d Delivery, data T) error {
		if err := checkSagaID(d, sagaID(data)); err != nil {
			return err
		}
		return fn(ctx, tx, d, data)
	})
}

// Ignore accepts messages of msgType and does nothing with them: a type
// that may come on a consumed topic and that this service has no use for
// (not an unknown type, which is poison).
func Ignore(msgType string) MessageRoute {
	return MessageRoute{msgType: msgType, handle: func(context.Context, pgx.Tx, Delivery) error { return nil }}
}

// Routes returns a Handler that hands each message to the route of its
// type (d.Message.Type). A message of a type no route names is poison:
// no retry will teach the service a type it does not know, and the dead
// letter keeps it for whoever does. Routes panics when two routes name
// the same type or one names none, as http.ServeMux does with conflicting
// patterns: that is a mistake in the wiring, found at start.
func Routes(routes ...MessageRoute) Handler {
	byType := make(map[string]Handler, len(routes))
	for _, r := range routes {
		if r.msgType == "" || r.handle == nil {
			panic("consumer: a route without a message type (make routes with Route, RouteCorrelated or Ignore)")
		}
		if _, dup := byType[r.msgType]; dup {
			panic(fmt.Sprintf("consumer: two routes for message type %q", r.msgType))
		}
		byType[r.msgType] = r.handle
	}
	return func(ctx context.Context, tx pgx.Tx, d Delivery) error {
		h, ok := byType[d.Message.Type]
		if !ok {
			return Poison(fmt.Errorf("unknown message type %q on %s", d.Message.Type, d.Topic))
		}
		return h(ctx, tx, d)
	}
}
