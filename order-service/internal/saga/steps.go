package saga

import (
	"fmt"

	"github.com/purchase-saga/contract"
	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/contract/reply"
	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/outbox"
	"github.com/purchase-saga/order-service/internal/order"
)

// Step is one row of the saga's step table: the participant's topics and
// message types (contract.Step) and what the orchestrator cannot read off
// them: the data of the command and of its compensation, and the reason
// a rejection gives. The mechanism (placing, replies, compensations, the
// topics consumed) is the same for every row, so that a step is added by
// adding a row.
type Step struct {
	contract.Step
	// CommandData is the data of the step's command for a new order.
	CommandData func(o order.Order) any
	// CompensationData is the data of the compensation of the order's step.
	CompensationData func(o order.Order) any
	// RejectionReason reads the reason out of a RejectedType message.
	RejectionReason func(m envelope.Message) (string, error)
}

// Steps is the saga's step table: every order runs all its steps in
// parallel, in this order.
type Steps []Step

// DefaultSteps returns the purchase saga's table: stock, then payment
// (contract.Steps).
func DefaultSteps() Steps {
	return Steps{stockStep(), paymentStep()}
}

func stockStep() Step {
	return Step{
		Step: contract.Stock,
		CommandData: func(o order.Order) any {
			lines := make([]stockmsg.Line, len(o.Lines))
			for i, l := range o.Lines {
				lines[i] = stockmsg.Line{ItemID: l.ItemID, Quantity: l.Quantity}
			}
			return stockmsg.Reserve{OrderID: o.ID, Lines: lines, Deadline: o.Deadline}
		},
		CompensationData: func(o order.Order) any { return stockmsg.Release{OrderID: o.ID} },
		RejectionReason:  rejectionReason,
	}
}

func paymentStep() Step {
	return Step{
		Step: contract.Payment,
		CommandData: func(o order.Order) any {
			return paymentmsg.Charge{OrderID: o.ID, CustomerID: o.CustomerID, AmountCents: o.AmountCents,
				Currency: o.Currency, Deadline: o.Deadline}
		},
		CompensationData: func(o order.Order) any { return paymentmsg.Refund{OrderID: o.ID} },
		RejectionReason:  rejectionReason,
	}
}

// Names are the names of the steps, in order: the steps of a new order.
func (ss Steps) Names() []order.StepName {
	names := make([]order.StepName, len(ss))
	for i, st := range ss {
		names[i] = order.StepName(st.Name)
	}
	return names
}

// ReplyTopics are the topics the steps' participants answer on.
func (ss Steps) ReplyTopics() []string {
	var topics []string
	for _, st := range ss {
		topics = append(topics, st.Replies, st.Rejections)
	}
	return topics
}

// step returns the step named name, or order.ErrUnknownStep.
func (ss Steps) step(name order.StepName) (Step, error) {
	for _, st := range ss {
		if st.Name == string(name) {
			return st, nil
		}
	}
	return Step{}, fmt.Errorf("saga: step %q: %w", name, order.ErrUnknownStep)
}

// commands are the first command of every step for a new order.
func (ss Steps) commands(o order.Order) ([]outbox.Record, error) {
	records := make([]outbox.Record, 0, len(ss)+1) // room for order.placed
	for _, st := range ss {
		r, err := outbox.NewRecord(st.Command, st.CommandType, o.ID, st.CommandData(o))
		if err != nil {
			return nil, err
		}
		records = append(records, r)
	}
	return records, nil
}

// compensation is the compensation of o's step name.
func (ss Steps) compensation(o order.Order, name order.StepName) (outbox.Record, error) {
	st, err := ss.step(name)
	if err != nil {
		return outbox.Record{}, err
	}
	return outbox.NewRecord(st.Compensation, st.CompensationType, o.ID, st.CompensationData(o))
}

// Validate reports a table the orchestrator could not run: no step, a
// step without a name, its data or a topic or message type, or a name, a
// topic or a message type that two steps share (a reply would not say
// whose it is).
func (ss Steps) Validate() error {
	if len(ss) == 0 {
		return fmt.Errorf("saga: no steps")
	}
	names, seen := map[string]bool{}, map[string]string{}
	for _, st := range ss {
		if st.Name == "" || names[st.Name] {
			return fmt.Errorf("saga: step name %q empty or taken", st.Name)
		}
		names[st.Name] = true
		if st.CommandData == nil || st.CompensationData == nil || st.RejectionReason == nil {
			return fmt.Errorf("saga: step %q lacks a function of its data", st.Name)
		}
		for _, v := range []string{st.Command, st.Compensation, st.Replies, st.Rejections,
			st.CommandType, st.CompensationType, st.DoneType, st.UndoneType, st.RejectedType} {
			if v == "" {
				return fmt.Errorf("saga: step %q lacks a topic or a message type", st.Name)
			}
			if other, ok := seen[v]; ok {
				return fmt.Errorf("saga: steps %q and %q both use %q", other, st.Name, v)
			}
			seen[v] = st.Name
		}
	}
	return nil
}

// rejectionReason reads the reason of a refusal sent as every participant
// sends it (reply.Rejected).
func rejectionReason(m envelope.Message) (string, error) {
	var rej reply.Rejected
	err := m.DecodeData(&rej)
	return rej.Reason, err
}
