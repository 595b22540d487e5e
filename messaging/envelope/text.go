package envelope

import "unicode/utf8"

// Truncate returns s cut to at most n bytes without splitting a UTF-8
// character, so that text bounded for a header, a reply or a column is
// still valid UTF-8 (PostgreSQL text refuses a broken character).
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// ContainsNUL reports whether the JSON text value holds a NUL character,
// raw or escaped as \u0000 in a string. PostgreSQL text cannot store one,
// so a message or a request carrying it can never be applied.
func ContainsNUL(value []byte) bool {
	inString := false
	for i := 0; i < len(value); i++ {
		switch c := value[i]; {
		case c == 0:
			return true
		case c == '"':
			inString = !inString
		case c == '\\' && inString && i+1 < len(value):
			if value[i+1] == 'u' && i+6 <= len(value) && string(value[i+2:i+6]) == "0000" {
				return true
			}
			i++ // skip the escaped character, which may be a quote
		}
	}
	return false
}
