package saga_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/purchase-saga/contract"
	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/saga"
)

// A third participant, as a new step would be: its topics, its messages
// and its row of the table.
const (
	shippingTopic        = "shipping"
	shippingSuccess      = "shipping.success"
	shippingDLT          = "shipping.dlt"
	shippingCompensation = "shipping.compensation"
	typeShip             = "shipping.ship"
	typeCancel           = "shipping.cancel"
	typeShipped          = "shipping.shipped"
	typeCancelled        = "shipping.cancelled"
	typeShipRejected     = "shipping.rejected"
)

type ship struct {
	OrderID string `json:"order_id"`
	Items   int64  `json:"items"`
}

type shipRejected struct {
	OrderID string `json:"order_id"`
	Why     string `json:"why"`
}

func shippingStep() saga.Step {
	return saga.Step{
		Step: contract.Step{
			Name: "shipping", Command: shippingTopic, Compensation: shippingCompensation,
			Replies: shippingSuccess, Rejections: shippingDLT,
			CommandType: typeShip, CompensationType: typeCancel,
			DoneType: typeShipped, UndoneType: typeCancelled, RejectedType: typeShipRejected,
		},
		CommandData: func(o order.Order) any {
			var items int64
			for _, l := range o.Lines {
				items += l.Quantity
			}
			return ship{OrderID: o.ID, Items: items}
		},
		CompensationData: func(o order.Order) any { return ship{OrderID: o.ID} },
		RejectionReason: func(m envelope.Message) (string, error) {
			var rej shipRejected
			err := m.DecodeData(&rej)
			return rej.Why, err
		},
	}
}

// newShippingSaga returns an orchestrator of the default steps and
// shipping, on a fresh orderdb.
func newShippingSaga(t *testing.T) *saga.Saga {
	t.Helper()
	s, _ := newSaga(t, time.Minute)
	s.Steps = append(saga.DefaultSteps(), shippingStep())
	if err := s.Steps.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

func placeBook(t *testing.T, s *saga.Saga) order.Order {
	t.Helper()
	o, _, err := s.Place(context.Background(), saga.PlaceRequest{CustomerID: "c1",
		Lines: []saga.LineRequest{{ItemID: "book", Quantity: 2}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// mustReply applies a reply that must be processed.
func mustReply(t *testing.T, s *saga.Saga, topicName, typ, orderID string, data any) {
	t.Helper()
	if err := reply(t, s, topicName, typ, orderID, data); err != nil {
		t.Fatalf("%s on %s: %v", typ, topicName, err)
	}
}

// steps reads order id back and returns the status of each of its steps.
func steps(t *testing.T, s *saga.Saga, id string) (order.Order, map[order.StepName]order.StepStatus) {
	t.Helper()
	o, err := s.Get(context.Background(), nil, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[order.StepName]order.StepStatus{}
	for _, st := range o.Steps {
		out[st.Name] = st.Status
	}
	return o, out
}

func TestDefaultStepsAreStockAndPayment(t *testing.T) {
	ss := saga.DefaultSteps()
	if err := ss.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := ss.Names(), []order.StepName{"stock", "payment"}; !slices.Equal(got, want) {
		t.Errorf("default steps %v, want %v", got, want)
	}
	for i, st := range ss {
		if i >= len(contract.Steps) || st.Step != contract.Steps[i] {
			t.Errorf("default step %d %+v, want contract.Steps[%d]", i, st.Step, i)
		}
	}
	want := []string{topic.StockSuccess, topic.StockDLT, topic.PaymentSuccess, topic.PaymentDLT}
	if got := (&saga.Saga{}).ReplyTopics(); !slices.Equal(got, want) || !slices.Equal(saga.ReplyTopics, want) {
		t.Errorf("reply topics %v (package: %v), want %v", got, saga.ReplyTopics, want)
	}
	shipping := append(saga.DefaultSteps(), shippingStep())
	if got := (&saga.Saga{Steps: shipping}).ReplyTopics(); !slices.Equal(got, append(want, shippingSuccess, shippingDLT)) {
		t.Errorf("reply topics with shipping %v, want shipping's too", got)
	}
	twice := append(saga.DefaultSteps(), saga.DefaultSteps()[0])
	if err := twice.Validate(); err == nil {
		t.Error("a table with stock twice is valid")
	}
	sharing := shippingStep()
	sharing.Replies = topic.StockSuccess
	if err := append(saga.DefaultSteps(), sharing).Validate(); err == nil {
		t.Error("a table whose shipping answers on stock's replies topic is valid")
	}
}

// A third step, added to the table only, runs as the two others: its
// command is sent with theirs, the order completes once all three
// succeeded.
func TestAThirdStepCompletesTheOrderWithTheOthers(t *testing.T) {
	s := newShippingSaga(t)
	o := placeBook(t, s)
	got := outboxTypes(t, poolOf(s), o.ID)
	for _, typ := range []string{stockmsg.TypeReserve, paymentmsg.TypeCharge, typeShip, "order.placed"} {
		if got[typ] != 1 {
			t.Errorf("outbox %v: want one %s", got, typ)
		}
	}
	var data ship
	var commandTopic string
	if err := poolOf(s).QueryRow(context.Background(), `SELECT topic, convert_from(value, 'UTF8')::jsonb->'data'
		FROM outbox WHERE key = $1 AND headers->>'type' = $2`, o.ID, typeShip).Scan(&commandTopic, &data); err != nil {
		t.Fatal(err)
	}
	if commandTopic != shippingTopic || data != (ship{OrderID: o.ID, Items: 2}) {
		t.Errorf("shipping command %+v on %q, want the order's 2 items on %s", data, commandTopic, shippingTopic)
	}

	mustReply(t, s, topic.StockSuccess, stockmsg.TypeReserved, o.ID, stockmsg.Reserved{OrderID: o.ID})
	mustReply(t, s, topic.PaymentSuccess, paymentmsg.TypeCharged, o.ID, paymentmsg.Charged{OrderID: o.ID, AmountCents: 1000})
	if got, _ := steps(t, s, o.ID); got.Status != order.Pending {
		t.Fatalf("order %s with shipping unanswered, want PENDING", got.Status)
	}
	mustReply(t, s, shippingSuccess, typeShipped, o.ID, ship{OrderID: o.ID})
	got2, statuses := steps(t, s, o.ID)
	want := map[order.StepName]order.StepStatus{"stock": order.StepSucceeded, "payment": order.StepSucceeded, "shipping": order.StepSucceeded}
	if got2.Status != order.Completed || !equalStatuses(statuses, want) {
		t.Errorf("order %s with steps %v, want COMPLETED with %v", got2.Status, statuses, want)
	}
	if n := outboxTypes(t, poolOf(s), o.ID)["order.completed"]; n != 1 {
		t.Errorf("%d order.completed events, want 1", n)
	}
}

// The third step refused after the two others succeeded: the order fails
// with its reason, stock is released and payment refunded, and shipping
// is not compensated.
func TestAThirdStepRefusedCompensatesTheOthers(t *testing.T) {
	s := newShippingSaga(t)
	o := placeBook(t, s)
	mustReply(t, s, topic.StockSuccess, stockmsg.TypeReserved, o.ID, stockmsg.Reserved{OrderID: o.ID})
	mustReply(t, s, topic.PaymentSuccess, paymentmsg.TypeCharged, o.ID, paymentmsg.Charged{OrderID: o.ID, AmountCents: 1000})
	mustReply(t, s, shippingDLT, typeShipRejected, o.ID, shipRejected{OrderID: o.ID, Why: "no_courier"})

	got, statuses := steps(t, s, o.ID)
	want := map[order.StepName]order.StepStatus{"stock": order.StepCompensating, "payment": order.StepCompensating, "shipping": order.StepFailed}
	if got.Status != order.Failed || got.FailureReason != "no_courier" || !equalStatuses(statuses, want) {
		t.Errorf("order %s (%q) with steps %v, want FAILED (no_courier) with %v", got.Status, got.FailureReason, statuses, want)
	}
	types := outboxTypes(t, poolOf(s), o.ID)
	if types[stockmsg.TypeRelease] != 1 || types[paymentmsg.TypeRefund] != 1 || types[typeCancel] != 0 || types["order.failed"] != 1 {
		t.Errorf("outbox %v, want one stock.release, one payment.refund, one order.failed and no shipping.cancel", types)
	}

	mustReply(t, s, topic.StockSuccess, stockmsg.TypeReleased, o.ID, stockmsg.Released{OrderID: o.ID})
	mustReply(t, s, topic.PaymentSuccess, paymentmsg.TypeRefunded, o.ID, paymentmsg.Refunded{OrderID: o.ID, AmountCents: 1000})
	got, statuses = steps(t, s, o.ID)
	want = map[order.StepName]order.StepStatus{"stock": order.StepCompensated, "payment": order.StepCompensated, "shipping": order.StepFailed}
	if got.Status != order.Failed || !equalStatuses(statuses, want) {
		t.Errorf("order %s with steps %v after the acknowledgements, want FAILED with %v", got.Status, statuses, want)
	}
}

// A late success of the third step after the order failed is compensated
// with the third step's own compensation.
func TestAThirdStepSucceedingLateIsCompensated(t *testing.T) {
	s := newShippingSaga(t)
	o := placeBook(t, s)
	mustReply(t, s, topic.PaymentDLT, paymentmsg.TypeRejected, o.ID, paymentmsg.Rejected{OrderID: o.ID, Reason: "insufficient_funds"})
	mustReply(t, s, shippingSuccess, typeShipped, o.ID, ship{OrderID: o.ID})
	if n := outboxTypes(t, poolOf(s), o.ID)[typeCancel]; n != 1 {
		t.Errorf("%d shipping.cancel messages, want 1", n)
	}
	var topicName string
	if err := poolOf(s).QueryRow(context.Background(), `SELECT topic FROM outbox WHERE key = $1 AND headers->>'type' = $2`,
		o.ID, typeCancel).Scan(&topicName); err != nil || topicName != shippingCompensation {
		t.Errorf("shipping.cancel on %q (%v), want %s", topicName, err, shippingCompensation)
	}
	mustReply(t, s, shippingSuccess, typeCancelled, o.ID, ship{OrderID: o.ID})
	if _, statuses := steps(t, s, o.ID); statuses["shipping"] != order.StepCompensated {
		t.Errorf("shipping %s, want COMPENSATED", statuses["shipping"])
	}
}

// A reply names its step through the table: a step the saga does not
// run, or one the order was not placed with, is poison, never taken for
// another step.
func TestARepliesStepMustBeTheOrdersAndTheTables(t *testing.T) {
	s, _ := newSaga(t, time.Minute) // the default steps
	o := placeBook(t, s)
	if err := reply(t, s, shippingSuccess, typeShipped, o.ID, ship{OrderID: o.ID}); !errors.Is(err, consumer.ErrPoison) {
		t.Errorf("a reply of a step the saga does not run: %v, want poison", err)
	}
	withShipping := &saga.Saga{Store: s.Store, Currency: s.Currency, Timeout: s.Timeout, Log: s.Log,
		Steps: append(saga.DefaultSteps(), shippingStep())}
	err := reply(t, withShipping, shippingSuccess, typeShipped, o.ID, ship{OrderID: o.ID})
	if !errors.Is(err, consumer.ErrPoison) || !errors.Is(err, order.ErrUnknownStep) {
		t.Errorf("a reply of a step the order was not placed with: %v, want poison (unknown step)", err)
	}
	if got, statuses := steps(t, s, o.ID); got.Status != order.Pending || len(statuses) != 2 ||
		statuses["stock"] != order.StepPending || statuses["payment"] != order.StepPending {
		t.Errorf("order %s with steps %v after refused replies, want PENDING with stock and payment PENDING", got.Status, statuses)
	}
}

func equalStatuses(got, want map[order.StepName]order.StepStatus) bool {
	if len(got) != len(want) {
		return false
	}
	for name, w := range want {
		if got[name] != w {
			return false
		}
	}
	return true
}
