package config

import (
	"net/url"
	"strings"
)

// mask replaces a password wherever a connection string may carry one.
const mask = "xxxxx"

// redactDSN returns s with every password it may carry replaced by xxxxx:
// the user info and the password or sslpassword parameters of a URL, even
// one that does not parse, and the same parameters of a libpq key=value
// string (quoted or not). Anything else comes back unchanged.
func redactDSN(s string) string {
	switch {
	case strings.Contains(s, "://"):
		return redactURL(s)
	case strings.Contains(s, "="):
		return redactKeyValues(s)
	}
	return s
}

// redactURL masks the password in a URL's user info and its query. A URL
// that does not parse is cut by hand: user info ends at its last '@'.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return redactRawURL(s)
	}
	u.RawQuery = redactQuery(u.RawQuery)
	return u.Redacted()
}

// redactRawURL masks what follows the user name in scheme://user:pw@host
// and the secret parameters after the first '?'.
func redactRawURL(s string) string {
	i := strings.Index(s, "://") + len("://")
	if at := strings.LastIndex(s[i:], "@"); at >= 0 {
		if user, _, ok := strings.Cut(s[i:i+at], ":"); ok {
			s = s[:i] + user + ":" + mask + s[i+at:]
		}
	}
	if base, query, ok := strings.Cut(s, "?"); ok {
		return base + "?" + redactQuery(query)
	}
	return s
}

// redactQuery masks the secret parameters of a raw query, keeping the rest
// as it was written.
func redactQuery(q string) string {
	if q == "" {
		return q
	}
	params := strings.Split(q, "&")
	for i, p := range params {
		k, _, _ := strings.Cut(p, "=")
		if key, err := url.QueryUnescape(k); isSecret(k) || err == nil && isSecret(key) {
			params[i] = k + "=" + mask
		}
	}
	return strings.Join(params, "&")
}

// isSecret reports whether a connection parameter holds a password
// (password, sslpassword).
func isSecret(key string) bool {
	return strings.Contains(strings.ToLower(key), "password")
}

// redactKeyValues masks the secret values of a libpq connection string,
// "host=h password='a b' sslmode=disable": keywords and values separated
// by '=' with optional spaces, values unquoted up to a space or
// single-quoted, with backslash escapes in both.
func redactKeyValues(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		key := i
		for i < len(s) && s[i] != '=' && !isSpace(s[i]) {
			i++
		}
		name := s[key:i]
		eq := skipSpaces(s, i)
		if name == "" || eq == len(s) || s[eq] != '=' {
			b.WriteString(s[key:max(i, key+1)])
			i = max(i, key+1)
			continue
		}
		start := skipSpaces(s, eq+1)
		end := valueEnd(s, start)
		b.WriteString(s[key:start])
		if isSecret(name) {
			b.WriteString(mask)
		} else {
			b.WriteString(s[start:end])
		}
		i = end
	}
	return b.String()
}

// valueEnd returns where the value that starts at i ends.
func valueEnd(s string, i int) int {
	quoted := i < len(s) && s[i] == '\''
	if quoted {
		i++
	}
	for i < len(s) {
		switch {
		case s[i] == '\\':
			i++
		case quoted && s[i] == '\'':
			return i + 1
		case !quoted && isSpace(s[i]):
			return i
		}
		i++
	}
	return len(s)
}

func skipSpaces(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
