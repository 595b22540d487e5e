package consumer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"
)

// closedWithin tells a closed reader's io.EOF from a failed group join's:
// a closed reader answers every fetch with io.EOF at once, while kafka-go
// reports a join that failed on a connection the broker closed as io.EOF
// too, but only after its attempts, each JoinGroupBackoff (a second or
// more) apart. Two io.EOFs this close together are a closed reader.
const closedWithin = 100 * time.Millisecond

// fetch hands fetched messages to their workers' queues until ctx ends
// (and then returns nil) or the reader reports that it is closed, which
// no retry cures.
func (c *Consumer) fetch(ctx context.Context, queues []chan kafka.Message) error {
	var lastEOF time.Time
	for attempt := 1; ; {
		m, err := c.cfg.Reader.FetchMessage(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, io.EOF) {
			if !lastEOF.IsZero() && time.Since(lastEOF) < closedWithin {
				return fmt.Errorf("fetch: reader closed: %w", err)
			}
			// Maybe a group join the broker cut (it was restarting, say):
			// the reader joins again by itself. Fetch again at once: a
			// closed reader says io.EOF again straight away.
			lastEOF = time.Now()
			c.log.Warn("fetch failed", "err", err)
			continue
		}
		if err != nil {
			// Not a stall of this consumer's own: the reader reconnects by
			// itself, and /readyz checks the broker. (A failed fetch
			// followed by a fetch waiting for messages that do not come
			// would otherwise look like a stall for ever.)
			c.log.Warn("fetch failed", "err", err)
			_ = c.cfg.Backoff.Sleep(ctx, attempt)
			attempt++
			continue
		}
		attempt = 1
		select {
		case queues[worker(m, len(queues))] <- m:
		case <-ctx.Done():
			return nil
		}
	}
}

// worker picks a message's worker by partition number alone: topics with
// the same partition count put a key on the same partition number, so the
// messages of one key on different topics (a command's replies, say) are
// applied by one worker, in turn, instead of contending for the key's
// rows from two.
func worker(m kafka.Message, n int) int {
	return m.Partition % n
}
