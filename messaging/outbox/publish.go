package outbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/broker"
	"github.com/purchase-saga/messaging/dlt"
)

// sent sorts a batch's rows by what the broker said.
type sent struct {
	published []int64
	refused   map[int64]string // row id → why the broker refuses it
	retry     bool
}

// send publishes batch within the lease. Rows the broker acknowledges are
// published; rows it refuses for good (too large, an invalid topic) are
// refused, each one sent alone first, since a broker refuses a whole
// partition's batch for one bad record; the rest, failed for a passing
// reason, go out again next pass and retry is set. An error means the lease ran out
// or ctx ended, and nothing is known.
func (r *Relay) send(ctx context.Context, l *lease, batch []row) (sent, error) {
	out := sent{refused: map[int64]string{}}
	var msgs []kafka.Message
	var ids []int64
	rows := make(map[int64]row, len(batch))
	for _, rw := range batch {
		rows[rw.id] = rw
		m, err := toMessage(rw)
		if err == nil && dlt.Size(m) > r.cfg.MaxMessageBytes {
			err = fmt.Errorf("message of %d bytes exceeds the %d-byte limit", dlt.Size(m), r.cfg.MaxMessageBytes)
		}
		if err != nil {
			out.refused[rw.id] = err.Error()
			continue
		}
		msgs, ids = append(msgs, m), append(ids, rw.id)
	}
	spans := startPublishSpans(ctx, msgs)
	errs, err := r.publish(ctx, l, msgs)
	spans.end(errs, err)
	if err != nil {
		return out, err
	}
	var suspects []int
	for i, err := range errs {
		switch {
		case err == nil:
			out.published = append(out.published, ids[i])
		case broker.IsRefused(err) && len(msgs) == 1:
			out.refused[ids[i]] = err.Error()
		case broker.IsRefused(err):
			suspects = append(suspects, i)
		default:
			out.retry = true
		}
	}
	for _, i := range suspects {
		alone, err := r.send(ctx, l, []row{rows[ids[i]]})
		if err != nil {
			return out, err
		}
		out.published = append(out.published, alone.published...)
		for id, why := range alone.refused {
			out.refused[id] = why
		}
		out.retry = out.retry || alone.retry
	}
	return out, nil
}

// publish sends msgs with a deadline at the lease's end and returns each
// message's error (all nil on success). Only an expired lease or ctx
// returns an error.
func (r *Relay) publish(ctx context.Context, l *lease, msgs []kafka.Message) ([]error, error) {
	errs := make([]error, len(msgs))
	if len(msgs) == 0 {
		return errs, nil
	}
	pctx, cancel, err := l.ctx(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	err = r.cfg.Publisher.WriteMessages(pctx, msgs...)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var werrs kafka.WriteErrors
	var tooLarge kafka.MessageTooLargeError
	switch {
	case err == nil:
	case errors.As(err, &werrs) && len(werrs) == len(msgs):
		copy(errs, werrs)
	case errors.As(err, &tooLarge) && len(msgs) == 1:
		errs[0] = err
	case errors.As(err, &tooLarge):
		// Nothing was sent: the writer checks sizes first. Name the culprit
		// refused and the rest as failed for now, to be sent again.
		for i := range msgs {
			errs[i] = errRetry
			if sameMessage(msgs[i], tooLarge.Message) {
				errs[i] = err
			}
		}
	default:
		for i := range errs {
			errs[i] = err
		}
	}
	if err != nil {
		r.cfg.Logger.Warn("relay publish failed", "component", "outbox-relay", "rows", len(msgs), "err", err)
	}
	return errs, nil
}

// errRetry marks a message that was not sent because of another.
var errRetry = errors.New("not sent: another message of the batch was refused")

func sameMessage(a, b kafka.Message) bool {
	return a.Topic == b.Topic && string(a.Key) == string(b.Key) && string(a.Value) == string(b.Value)
}

func toMessage(rw row) (kafka.Message, error) {
	hs, err := decodeHeaders(rw.headers)
	if err != nil {
		return kafka.Message{}, fmt.Errorf("outbox row %d %w", rw.id, err)
	}
	return kafka.Message{Topic: rw.topic, Key: []byte(rw.key), Value: rw.value, Headers: hs}, nil
}
