package participant

import (
	"fmt"

	"github.com/purchase-saga/messaging/service"
)

// Consume registers the participant's consumers on s: its actions and its
// compensations apart, each with its own fetcher and workers in a
// consumer group of its own (one group reader per group and process), so
// that compensations never queue behind a backlog of actions. Every
// failure goes to the step's Rejections topic, where the orchestrator
// reads the step's outcome.
func (p *Participant[U, C, P]) Consume(s *service.Service) error {
	step := p.spec.Step
	for _, c := range []struct{ topic, group string }{
		{step.Command, s.Name},
		{step.Compensation, s.Name + "-compensation"},
	} {
		err := s.Consume(service.Subscription{
			Topics: []string{c.topic}, Handler: p.Handle, Lock: p.Lock, Group: c.group,
			DeadLetterTopic: func(string) string { return step.Rejections },
		})
		if err != nil {
			return fmt.Errorf("consume %s: %w", c.topic, err)
		}
	}
	return nil
}
