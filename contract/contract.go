// Package contract is the saga's published language, in one place: the
// topics (package topic), the messages each service sends and accepts
// (ordermsg, stockmsg, paymentmsg) and the steps that tie them together
// (Steps). The three services and sagactl import it; it imports nothing,
// so no service needs another service's module.
//
// The reply convention: a participant answers a command on its step's
// Replies topic (done or undone) and refuses one on its step's Rejections
// topic (a dead-letter topic) with dlt-reason "rejected" and a Rejected
// message naming the reason; technical failures land on that same topic
// with dlt-reason "error" or "poison" and the failed command itself.
//
// Versions: a message type keeps its name while its data only grows
// (fields added, none removed or changed in meaning; readers ignore
// fields they do not know). A change that old readers would misread is a
// new type, named with a version suffix (stock.reserve.v2), sent beside
// the old one until every reader knows it.
package contract

import (
	"github.com/purchase-saga/contract/paymentmsg"
	"github.com/purchase-saga/contract/stockmsg"
	"github.com/purchase-saga/contract/topic"
)

// Step is one participant's part of the saga: the topics its command,
// compensation and answers travel on, and their message types.
type Step struct {
	// Name names the step in orders and logs ("stock", "payment").
	Name string
	// Command and Compensation are the topics the orchestrator sends on.
	Command, Compensation string
	// Replies carries the participant's acknowledgements, Rejections its
	// refusals and failures.
	Replies, Rejections string
	// The message types: the command and its compensation, their
	// acknowledgements, and the refusal.
	CommandType, CompensationType, DoneType, UndoneType, RejectedType string
}

// The saga's steps, run in parallel for every order.
var (
	Stock = Step{
		Name: "stock", Command: topic.Stock, Compensation: topic.StockCompensation,
		Replies: topic.StockSuccess, Rejections: topic.StockDLT,
		CommandType: stockmsg.TypeReserve, CompensationType: stockmsg.TypeRelease,
		DoneType: stockmsg.TypeReserved, UndoneType: stockmsg.TypeReleased, RejectedType: stockmsg.TypeRejected,
	}
	Payment = Step{
		Name: "payment", Command: topic.Payment, Compensation: topic.PaymentCompensation,
		Replies: topic.PaymentSuccess, Rejections: topic.PaymentDLT,
		CommandType: paymentmsg.TypeCharge, CompensationType: paymentmsg.TypeRefund,
		DoneType: paymentmsg.TypeCharged, UndoneType: paymentmsg.TypeRefunded, RejectedType: paymentmsg.TypeRejected,
	}
)

// Steps lists the saga's steps.
var Steps = []Step{Stock, Payment}
