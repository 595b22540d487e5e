// How a step is added to the saga, with its participant: this file does
// it from outside the mechanism (nothing in messaging, contract or
// order-service's code is changed for it), and
// TestANewStepWithItsParticipantBuiltFromTheKit runs the result over a
// real broker and real PostgreSQL. The new step is shipping: a courier is
// booked for an order's parcels, and the booking is cancelled when the
// saga compensates. A newcomer takes four steps:
//
//  1. The contract step (shipmentStep): the step's name, its four topics
//     (command, compensation, replies, rejections) and its five message
//     types, as a contract.Step, and the data of its messages
//     (bookShipment, cancelShipment, shipmentBooked, shipmentCancelled,
//     shipmentRejected). In production they go to package contract, beside
//     contract.Stock and contract.Payment, and to a package of messages of
//     their own, as stockmsg is; only the types and topics are shared,
//     never a service's code.
//  2. The saga table's row (shipmentRow): a saga.Step is the contract step
//     plus what the orchestrator cannot read off it: its command's data
//     for a new order (CommandData), its compensation's
//     (CompensationData), and how a rejection gives its reason
//     (RejectionReason). The orchestrator runs the table
//     append(saga.DefaultSteps(), row), which Steps.Validate checks, and
//     consumes its reply topics (Saga.ReplyTopics), as main wires them. In
//     production the row goes into saga.DefaultSteps. Placing, replies,
//     compensations and timeouts are the same for every row.
//  3. The participant's effect, with the kit (messaging/participant): a
//     participant.Spec declares only what is the service's own: its
//     Effect (Command reads the action, Apply does it or refuses it with
//     nothing changed, Done, Undone and Rejected give the answers' data),
//     its Records (the store's statements that lock a batch, read, undo
//     and tombstone what was done for a saga) and its unit of work over
//     the consumer's transaction (Unit). The kit's flow does the rest: the
//     saga's lock, a duplicate answered as the first was, a compensation
//     before its action (tombstone, then the action refused as
//     cancelled), expiry, every answer written to the outbox with its
//     effect. participant.New(spec).Consume(s) registers its consumers;
//     service.Run relays its outbox. Its database holds messaging/schema's
//     outbox and inbox beside its own tables (migrateShipping). The kit's
//     conformance suite, participanttest.Run, checks the participant
//     against every rule, as it checks stock and payment: a Harness says
//     how to seed, refuse and read its resources (shippingHarness).
//  4. The topics: every service creates the topics it uses at start
//     (service.Topics), so the step's four topics join the list
//     (shippingTopics; in production contract/topic.All).
package saga_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/contract"
	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/participant"
	"github.com/purchase-saga/messaging/participant/participanttest"
	msgpg "github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/messaging/schema"
	"github.com/purchase-saga/messaging/service"
	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/messaging/testbroker"
	"github.com/purchase-saga/messaging/testdb"
	"github.com/purchase-saga/order-service/internal/order"
	"github.com/purchase-saga/order-service/internal/postgres"
	"github.com/purchase-saga/order-service/internal/saga"
)

// 1. The contract step and its messages.
var shipmentStep = contract.Step{
	Name: "shipping", Command: "shipping", Compensation: "shipping.compensation",
	Replies: "shipping.success", Rejections: "shipping.dlt",
	CommandType: "shipping.book", CompensationType: "shipping.cancel",
	DoneType: "shipping.booked", UndoneType: "shipping.cancelled", RejectedType: "shipping.rejected",
}

// bookShipment asks for a courier for an order's parcels.
type bookShipment struct {
	OrderID  string    `json:"order_id"`
	Parcels  int64     `json:"parcels"`
	Deadline time.Time `json:"deadline,omitzero"`
}

// cancelShipment cancels an order's booking.
type cancelShipment struct {
	OrderID string `json:"order_id"`
}

type shipmentBooked struct {
	OrderID string `json:"order_id"`
	Parcels int64  `json:"parcels"`
}

type shipmentCancelled struct {
	OrderID string `json:"order_id"`
}

type shipmentRejected struct {
	OrderID string `json:"order_id"`
	Reason  string `json:"reason"`
}

// 2. The saga table's row: one parcel per unit ordered.
func shipmentRow() saga.Step {
	return saga.Step{
		Step: shipmentStep,
		CommandData: func(o order.Order) any {
			var parcels int64
			for _, l := range o.Lines {
				parcels += l.Quantity
			}
			return bookShipment{OrderID: o.ID, Parcels: parcels, Deadline: o.Deadline}
		},
		CompensationData: func(o order.Order) any { return cancelShipment{OrderID: o.ID} },
		RejectionReason: func(m envelope.Message) (string, error) {
			var rej shipmentRejected
			err := m.DecodeData(&rej)
			return rej.Reason, err
		},
	}
}

// 3. The participant: a van with room for a number of parcels
// (couriers.free), and a shipment per saga (shipments).

// reasonNoCourier refuses a booking the van has no room for.
const reasonNoCourier = "no_courier"

// shipment is what the participant keeps of a saga: the parcels it booked
// and the booking's status (booked, cancelled or tombstone).
type shipment struct {
	saga    string
	parcels int64
	status  string
}

// shipmentStatuses are the flow's statuses of the stored ones.
var shipmentStatuses = map[string]participant.Status{
	"booked": participant.Done, "cancelled": participant.Undone, "tombstone": participant.Tombstone,
}

// shipments is the participant's effect; shippingUnit, its unit of work,
// runs the store's statements in the consumer's transaction.
type shipments struct{}

type shippingUnit struct{ tx pgx.Tx }

var _ participant.Effect[shippingUnit, bookShipment, shipment] = shipments{}

func (shipments) Command(d consumer.Delivery) (participant.Command[bookShipment], error) {
	var c bookShipment
	if err := consumer.DecodeData(d, &c, func() string { return c.OrderID }); err != nil {
		return participant.Command[bookShipment]{}, err
	}
	if c.Parcels < 1 {
		return participant.Command[bookShipment]{}, consumer.Poison(errors.New("no parcel to ship"))
	}
	return participant.Command[bookShipment]{Saga: c.OrderID, Deadline: c.Deadline, Locks: []string{"van"}, Value: c}, nil
}

func (shipments) Apply(ctx context.Context, u shippingUnit, c participant.Command[bookShipment]) (shipment, *participant.Refusal, error) {
	tag, err := u.tx.Exec(ctx, `UPDATE couriers SET free = free - $1 WHERE id = 'van' AND free >= $1`, c.Value.Parcels)
	if err != nil {
		return shipment{}, nil, fmt.Errorf("book the van: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return shipment{}, &participant.Refusal{Reason: reasonNoCourier,
			Detail: fmt.Sprintf("the van has no room for %d parcels", c.Value.Parcels)}, nil
	}
	s := shipment{saga: c.Saga, parcels: c.Value.Parcels, status: "booked"}
	if _, err := u.tx.Exec(ctx, `INSERT INTO shipments (saga_id, parcels, status) VALUES ($1, $2, $3)`,
		s.saga, s.parcels, s.status); err != nil {
		return shipment{}, nil, fmt.Errorf("record the shipment: %w", err)
	}
	return s, nil, nil
}

func (shipments) Done(saga string, s shipment) any {
	return shipmentBooked{OrderID: saga, Parcels: s.parcels}
}

func (shipments) Undone(saga string, _ shipment) any { return shipmentCancelled{OrderID: saga} }

func (shipments) Rejected(saga string, r participant.Refusal) any {
	return shipmentRejected{OrderID: saga, Reason: r.Reason}
}

// LockBatch locks the batch's sagas, then the van when a booking or a
// cancellation of the batch changes it.
func (u shippingUnit) LockBatch(ctx context.Context, sagas, locks, compensated []string) error {
	if err := msgpg.LockKeys(ctx, u.tx, sagas); err != nil {
		return err
	}
	if len(locks)+len(compensated) == 0 {
		return nil
	}
	_, err := u.tx.Exec(ctx, `SELECT 1 FROM couriers WHERE id = 'van' FOR UPDATE`)
	return err
}

func (u shippingUnit) Shipment(ctx context.Context, saga string) (shipment, bool, error) {
	s := shipment{saga: saga}
	err := u.tx.QueryRow(ctx, `SELECT parcels, status FROM shipments WHERE saga_id = $1`, saga).Scan(&s.parcels, &s.status)
	if errors.Is(err, pgx.ErrNoRows) {
		return shipment{}, false, nil
	}
	return s, err == nil, err
}

// Cancel cancels a booking and gives the van its room back.
func (u shippingUnit) Cancel(ctx context.Context, s shipment) error {
	if _, err := u.tx.Exec(ctx, `UPDATE shipments SET status = 'cancelled' WHERE saga_id = $1`, s.saga); err != nil {
		return err
	}
	_, err := u.tx.Exec(ctx, `UPDATE couriers SET free = free + $1 WHERE id = 'van'`, s.parcels)
	return err
}

func (u shippingUnit) Tombstone(ctx context.Context, saga string) error {
	_, err := u.tx.Exec(ctx, `INSERT INTO shipments (saga_id, parcels, status) VALUES ($1, 0, 'tombstone')`, saga)
	return err
}

// newShipping returns the shipping participant: its Spec is all a
// newcomer writes of the participant's flow.
func newShipping() *participant.Participant[shippingUnit, bookShipment, shipment] {
	return participant.New(participant.Spec[shippingUnit, bookShipment, shipment]{
		Step: participant.Step(shipmentStep), Effect: shipments{},
		Records: participant.Records[shippingUnit, shipment]{
			LockBatch: shippingUnit.LockBatch, Read: shippingUnit.Shipment, Undo: shippingUnit.Cancel,
			Tombstone: shippingUnit.Tombstone,
			Status:    func(s shipment) participant.Status { return shipmentStatuses[s.status] },
		},
		Unit:         func(tx pgx.Tx) shippingUnit { return shippingUnit{tx} },
		Compensation: participant.DecodeCompensation(func(m *cancelShipment) string { return m.OrderID }),
		Service:      "shipping-service",
		Cancelled:    "the order's shipment was cancelled before it was booked",
	})
}

// migrateShipping is the shipping participant's schema: the outbox and
// inbox every service has, and its own tables.
func migrateShipping(ctx context.Context, db *sql.DB) error {
	if err := schema.Up(ctx, db); err != nil {
		return err
	}
	_, err := db.ExecContext(ctx, `
		CREATE TABLE couriers (id text PRIMARY KEY, free bigint NOT NULL CHECK (free >= 0));
		CREATE TABLE shipments (saga_id text PRIMARY KEY, parcels bigint NOT NULL, status text NOT NULL)`)
	return err
}

// shippingHarness describes the shipping participant to the kit's
// conformance suite: a van with room for a thousand parcels, in which a
// shipment of two is booked and one of five thousand refused until the
// van grows.
func shippingHarness() participanttest.Harness {
	exec := func(t *testing.T, db *testdb.DB, sql string) {
		t.Helper()
		if _, err := db.Pool.Exec(context.Background(), sql); err != nil {
			t.Fatal(err)
		}
	}
	return participanttest.Harness{
		Step: participant.Step(shipmentStep),
		Open: func(t *testing.T) (*testdb.DB, participanttest.Participant) {
			return testdb.New(t, migrateShipping), newShipping()
		},
		Seed:  func(t *testing.T, db *testdb.DB) { exec(t, db, `INSERT INTO couriers VALUES ('van', 1000)`) },
		Allow: func(t *testing.T, db *testdb.DB) { exec(t, db, `UPDATE couriers SET free = free + 10000`) },
		Command: func(saga string, refused bool, deadline time.Time) any {
			if refused {
				return bookShipment{OrderID: saga, Parcels: 5000, Deadline: deadline}
			}
			return bookShipment{OrderID: saga, Parcels: 2, Deadline: deadline}
		},
		Compensation: func(saga string) any { return cancelShipment{OrderID: saga} },
		State: func(t *testing.T, db *testdb.DB) string {
			t.Helper()
			var free int64
			if err := db.Pool.QueryRow(context.Background(), `SELECT free FROM couriers WHERE id = 'van'`).Scan(&free); err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("van %d", free)
		},
	}
}

// 4. The topics: the saga's and the new step's.
var shippingTopics = append(slices.Clone(topic.All),
	shipmentStep.Command, shipmentStep.Compensation, shipmentStep.Replies, shipmentStep.Rejections)

// runService starts a service named name on a fresh database and on b, as
// its main does (servicetest.StartOn: service.Start, wire, then
// service.Run, relay included), until the test ends, and returns a pool of
// its database. Both services share b, so that they talk to each other.
func runService(t *testing.T, b *testbroker.Broker, name string, migrate func(context.Context, *sql.DB) error,
	wire func(*service.Service) error) *pgxpool.Pool {
	t.Helper()
	spec := service.Spec[struct{}]{Name: name, Migrate: migrate,
		Topics: service.Topics{Names: shippingTopics, Compacted: topic.Compacted},
		Wire: func(_ context.Context, s *service.Service, _ struct{}) (http.Handler, error) {
			return nil, wire(s)
		}}
	return servicetest.StartOn(t, b, spec, struct{}{}).Pool
}

// eventually waits up to a minute for ok.
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after a minute", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// recordOn returns the record keyed key on topicName, as the broker holds
// it, waiting for it to be published.
func recordOn(t *testing.T, b *testbroker.Broker, topicName, key string) (kafka.Message, envelope.Message) {
	t.Helper()
	keyed := func(ms []kafka.Message) int {
		return slices.IndexFunc(ms, func(m kafka.Message) bool { return string(m.Key) == key })
	}
	ms := b.ReadUntil(t, topicName, func(ms []kafka.Message) bool { return keyed(ms) >= 0 }, time.Minute)
	i := keyed(ms)
	if i < 0 {
		t.Fatalf("no record keyed %s on %s after a minute", key, topicName)
	}
	m, err := envelope.Decode(ms[i].Value)
	if err != nil {
		t.Fatalf("record on %s: %v", topicName, err)
	}
	return ms[i], m
}

// queryInt returns the number sql selects on pool.
func queryInt(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// answers counts the shipping participant's answers of type typ for saga,
// as written to its outbox.
func answers(t *testing.T, pool *pgxpool.Pool, saga, typ string) int {
	t.Helper()
	n := 0
	for _, r := range servicetest.Outbox(t, pool, shipmentStep.Replies, shipmentStep.Rejections) {
		if r.Key == saga && r.Message.Type == typ {
			n++
		}
	}
	return n
}

// A step added to the saga's table from outside, and its participant
// built with the kit, run as services over a broker: a shipment the van
// has room for is booked by the participant by itself and completes the
// order with stock and payment; a duplicate of the booking command has
// one effect; a shipment the van has no room for fails the order, whose
// stock and payment are compensated.
func TestANewStepWithItsParticipantBuiltFromTheKit(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: two services, consumer groups and relays over a broker")
	}
	// The participant obeys every rule of the kit's conformance suite, as
	// stock and payment do; its subtests end before the services start.
	t.Run("conformance", func(t *testing.T) { participanttest.Run(t, shippingHarness()) })

	ctx := context.Background()
	b := testbroker.New(t, 2)

	sg := &saga.Saga{Currency: "EUR", Timeout: time.Minute, Log: slog.Default(),
		Steps: append(saga.DefaultSteps(), shipmentRow())}
	if err := sg.Steps.Validate(); err != nil {
		t.Fatal(err)
	}
	orderPool := runService(t, b, "order-service", migrate, func(s *service.Service) error {
		sg.Store, sg.Log = postgres.NewStore(s.Pool), s.Log
		return s.Consume(service.Subscription{Topics: sg.ReplyTopics(), Handler: sg.Handle, Lock: sg.Lock,
			DeadLetterTopic: func(string) string { return topic.OrderDLT }})
	})
	if err := postgres.NewStore(orderPool).Catalog().Upsert(ctx, postgres.Item{ID: "book", Name: "Book", PriceCents: 500,
		Currency: "EUR", Available: 100}); err != nil {
		t.Fatal(err)
	}
	shipPool := runService(t, b, "shipping-service", migrateShipping, newShipping().Consume)
	if _, err := shipPool.Exec(ctx, `INSERT INTO couriers VALUES ('van', 5)`); err != nil {
		t.Fatal(err)
	}

	place := func(books int64) order.Order {
		t.Helper()
		o, _, err := sg.Place(ctx, saga.PlaceRequest{CustomerID: "c1",
			Lines: []saga.LineRequest{{ItemID: "book", Quantity: books}}}, "")
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	// Stock and payment are other services: their answers are sent here.
	succeed := func(o order.Order) {
		t.Helper()
		servicetest.Send(t, b,
			servicetest.Command(t, topic.StockSuccess, stockmsg.TypeReserved, o.ID, stockmsg.Reserved{OrderID: o.ID,
				Lines: []stockmsg.Line{{ItemID: "book", Quantity: o.Lines[0].Quantity}}}),
			servicetest.Command(t, topic.PaymentSuccess, paymentmsg.TypeCharged, o.ID,
				paymentmsg.Charged{OrderID: o.ID, AmountCents: o.AmountCents}))
	}
	undo := func(o order.Order) {
		t.Helper()
		servicetest.Send(t, b,
			servicetest.Command(t, topic.StockSuccess, stockmsg.TypeReleased, o.ID, stockmsg.Released{OrderID: o.ID}),
			servicetest.Command(t, topic.PaymentSuccess, paymentmsg.TypeRefunded, o.ID,
				paymentmsg.Refunded{OrderID: o.ID, AmountCents: o.AmountCents}))
	}
	reach := func(o order.Order, status order.Status, want map[order.StepName]order.StepStatus) order.Order {
		t.Helper()
		var got order.Order
		var statuses map[order.StepName]order.StepStatus
		eventually(t, fmt.Sprintf("order %s to be %s with steps %v", o.ID, status, want), func() bool {
			got, statuses = steps(t, sg, o.ID)
			return got.Status == status && equalStatuses(statuses, want)
		})
		return got
	}
	van := func() int64 { return queryInt(t, shipPool, `SELECT free FROM couriers WHERE id = 'van'`) }

	// Two parcels, room for five: the participant books them by itself.
	booked := place(2)
	succeed(booked)
	reach(booked, order.Completed, map[order.StepName]order.StepStatus{
		"stock": order.StepSucceeded, "payment": order.StepSucceeded, "shipping": order.StepSucceeded})
	if got := queryInt(t, shipPool, `SELECT count(*) FROM shipments WHERE saga_id = $1 AND status = 'booked' AND parcels = 2`,
		booked.ID); got != 1 {
		t.Errorf("%d shipments of 2 parcels booked for the completed order, want 1", got)
	}
	if got := van(); got != 3 {
		t.Errorf("the van has room for %d parcels after booking 2 of 5, want 3", got)
	}

	// The booking command delivered twice more: the very record again (the
	// inbox knows it), then a copy under a new message id (the kit answers
	// it as the first and books nothing). Both copies go to one partition,
	// in this order: once the second is in the inbox, the first was seen.
	record, command := recordOn(t, b, shipmentStep.Command, booked.ID)
	var data bookShipment
	if err := command.DecodeData(&data); err != nil || data != (bookShipment{OrderID: booked.ID, Parcels: 2, Deadline: booked.Deadline}) {
		t.Fatalf("shipping command %+v (%v), want the order's 2 parcels and deadline", data, err)
	}
	copied := servicetest.Command(t, shipmentStep.Command, shipmentStep.CommandType, booked.ID, data)
	copiedID, err := envelope.Decode(copied.Value)
	if err != nil {
		t.Fatal(err)
	}
	servicetest.Send(t, b, kafka.Message{Topic: shipmentStep.Command, Key: record.Key, Value: record.Value, Headers: record.Headers}, copied)
	eventually(t, "the copied command consumed", func() bool {
		return queryInt(t, shipPool, `SELECT count(*) FROM inbox WHERE message_id = $1`, copiedID.ID) == 1
	})
	if got := queryInt(t, shipPool, `SELECT count(*) FROM shipments WHERE saga_id = $1`, booked.ID); got != 1 {
		t.Errorf("%d shipments for an order whose command came three times, want 1", got)
	}
	if got := van(); got != 3 {
		t.Errorf("the van has room for %d parcels after the duplicates, want still 3", got)
	}
	if got := answers(t, shipPool, booked.ID, shipmentStep.DoneType); got != 2 {
		t.Errorf("%d shipping.booked answers, want 2: the first and the copy's (the record again is skipped)", got)
	}

	// Four parcels, room for three: the participant refuses; the order
	// fails on shipping, and stock and payment, which succeed, are
	// compensated on their compensation topics.
	refused := place(4)
	succeed(refused)
	failed := reach(refused, order.Failed, map[order.StepName]order.StepStatus{
		"stock": order.StepCompensating, "payment": order.StepCompensating, "shipping": order.StepFailed})
	if failed.FailureReason != reasonNoCourier {
		t.Errorf("order failed for %q, want %q", failed.FailureReason, reasonNoCourier)
	}
	if _, m := recordOn(t, b, topic.StockCompensation, refused.ID); m.Type != stockmsg.TypeRelease {
		t.Errorf("%s on %s, want %s", m.Type, topic.StockCompensation, stockmsg.TypeRelease)
	}
	if _, m := recordOn(t, b, topic.PaymentCompensation, refused.ID); m.Type != paymentmsg.TypeRefund {
		t.Errorf("%s on %s, want %s", m.Type, topic.PaymentCompensation, paymentmsg.TypeRefund)
	}
	undo(refused)
	reach(refused, order.Failed, map[order.StepName]order.StepStatus{
		"stock": order.StepCompensated, "payment": order.StepCompensated, "shipping": order.StepFailed})
	if got := answers(t, shipPool, refused.ID, shipmentStep.RejectedType); got != 1 {
		t.Errorf("%d shipping.rejected answers for the refused order, want 1", got)
	}
	if got := queryInt(t, shipPool, `SELECT count(*) FROM shipments WHERE saga_id = $1`, refused.ID); got != 0 {
		t.Errorf("%d shipments recorded for a refused booking, want none", got)
	}
	if got := van(); got != 3 {
		t.Errorf("the van has room for %d parcels after a refusal, want still 3", got)
	}
	if got := outboxTypes(t, orderPool, refused.ID)[shipmentStep.CompensationType]; got != 0 {
		t.Errorf("%d shipping.cancel sent for a shipment that failed, want none", got)
	}
}
