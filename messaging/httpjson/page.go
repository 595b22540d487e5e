package httpjson

import (
	"fmt"
	"net/url"
	"strconv"
)

// Page sizes of every list endpoint.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// PageQuery reads the paging of a list request, the same for every list
// endpoint: limit, from 1 to MaxPageSize (DefaultPageSize when absent),
// and after, the next of the previous page, which cursor checks and
// normalises. It returns what is wrong, for a 400, in problems.
func PageQuery(q url.Values, cursor func(string) (string, bool)) (after string, limit int, problems []string) {
	limit = DefaultPageSize
	if s := q.Get("after"); s != "" {
		if a, ok := cursor(s); ok {
			after = a
		} else {
			problems = append(problems, "after is not the next of a previous page")
		}
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPageSize {
			problems = append(problems, fmt.Sprintf("limit %q is not a number from 1 to %d", s, MaxPageSize))
		}
		limit = n
	}
	return after, limit, problems
}

// Cut trims list, read with one more than limit, to limit, and returns
// the cursor of the next page (next of the last kept element) when there
// was more, "" at the end.
func Cut[T any](list []T, limit int, next func(T) string) ([]T, string) {
	if len(list) <= limit {
		if list == nil {
			list = []T{}
		}
		return list, ""
	}
	list = list[:limit]
	return list, next(list[limit-1])
}
