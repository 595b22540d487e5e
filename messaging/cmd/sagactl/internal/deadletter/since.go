package deadletter

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseSince reads a time given as how long before now (a Go duration,
// or days as 7d) or as an RFC 3339 time, as --since and the console's
// since fields take it.
func ParseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	var ago time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return time.Time{}, fmt.Errorf("want a duration (90m, 1h, 7d) or an RFC 3339 time")
		}
		ago = time.Duration(n) * 24 * time.Hour
	} else {
		d, err := time.ParseDuration(s)
		if err != nil {
			return time.Time{}, fmt.Errorf("want a duration (90m, 1h, 7d) or an RFC 3339 time")
		}
		ago = d
	}
	if ago < 0 {
		return time.Time{}, fmt.Errorf("a duration must not be negative")
	}
	return now.Add(-ago), nil
}
