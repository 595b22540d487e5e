package participant

import "github.com/purchase-saga/messaging/consumer"

// DecodeCompensation returns a Spec.Compensation that reads a
// compensation's data as an M, whose saga saga returns: every
// participant's compensation names only its saga, and a delivery that
// cannot be read so is poison (consumer.DecodeData).
func DecodeCompensation[M any](saga func(*M) string) func(consumer.Delivery) (string, error) {
	return func(d consumer.Delivery) (string, error) {
		var m M
		err := consumer.DecodeData(d, &m, func() string { return saga(&m) })
		return saga(&m), err
	}
}
