package service

import "time"

// SetOffsetsEvery shortens how often s reads consumer lag and dead-letter
// depth from the broker; call it before Run.
func (s *Service) SetOffsetsEvery(d time.Duration) { s.offsetsEvery = d }
