package consumer

import (
	"time"

	"github.com/purchase-saga/messaging/dlt"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/outbox"
)

// maxOriginalValue bounds the refused command a rejection carries: a
// larger one is left out (a replay of that rejection then has nothing to
// retry), so that the rejection always fits in a message.
const maxOriginalValue = 64 << 10

// Rejection returns the outbox record of a business rejection of d: msg on
// topic (a .dlt) with dlt-reason "rejected", reason as dlt-error and the
// refused command in dlt-original-value, keyed like d. Written in the
// handler's transaction, it is the reply.
func Rejection(d Delivery, topic, service, reason string, msg envelope.Message) outbox.Record {
	headers := dlt.Failure{
		Reason: dlt.ReasonRejected, Err: reason, Origin: d.Origin(), Attempts: 1, Service: service, At: time.Now(),
	}.Headers()
	if len(d.Raw.Value) <= maxOriginalValue {
		headers[dlt.HeaderOriginalValue] = string(d.Raw.Value)
	}
	return outbox.Record{Topic: topic, Key: d.Key, Message: msg, Headers: headers}
}
