package outbox

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/segmentio/kafka-go"
)

// A row's headers are a flat JSON object of strings (the headers column,
// jsonb). Every message is written and relayed with them, so the relay
// and Write spend a large share of their CPU there with encoding/json;
// these do the common case, strings that need no escaping, by hand and
// leave every other case to encoding/json.

// encodeHeaders returns hs as a JSON object.
func encodeHeaders(hs map[string]string) (string, error) {
	var b strings.Builder
	b.WriteByte('{')
	first := true
	for k, v := range hs {
		if !first {
			b.WriteByte(',')
		}
		first = false
		if err := appendString(&b, k); err != nil {
			return "", err
		}
		b.WriteByte(':')
		if err := appendString(&b, v); err != nil {
			return "", err
		}
	}
	b.WriteByte('}')
	return b.String(), nil
}

// appendString writes s as a JSON string.
func appendString(b *strings.Builder, s string) error {
	if plain(s) {
		b.WriteByte('"')
		b.WriteString(s)
		b.WriteByte('"')
		return nil
	}
	q, err := json.Marshal(s)
	if err != nil {
		return err
	}
	b.Write(q)
	return nil
}

// plain reports whether s is printable ASCII without a quote, a backslash
// or a character encoding/json escapes (<, >, &): written as it is, it is
// the JSON string encoding/json writes.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// decodeHeaders returns the headers of a row's JSON object, as Kafka
// headers.
func decodeHeaders(raw []byte) ([]kafka.Header, error) {
	if hs, ok := decodePlain(raw); ok {
		return hs, nil
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("headers: %w", err)
	}
	hs := make([]kafka.Header, 0, len(m))
	for k, v := range m {
		hs = append(hs, kafka.Header{Key: k, Value: []byte(v)})
	}
	return hs, nil
}

// decodePlain decodes a JSON object whose keys and values are strings
// without escapes, as PostgreSQL prints a jsonb object ({"k": "v", ...});
// ok is false for anything else, which decodeHeaders leaves to
// encoding/json.
func decodePlain(raw []byte) (hs []kafka.Header, ok bool) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, false
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return []kafka.Header{}, skipSpace(raw, i+1) == len(raw)
	}
	for {
		var k, v []byte
		if k, i, ok = plainString(raw, i); !ok {
			return nil, false
		}
		if i = skipSpace(raw, i); i >= len(raw) || raw[i] != ':' {
			return nil, false
		}
		if v, i, ok = plainString(raw, skipSpace(raw, i+1)); !ok {
			return nil, false
		}
		hs = append(hs, kafka.Header{Key: string(k), Value: v})
		i = skipSpace(raw, i)
		switch {
		case i < len(raw) && raw[i] == ',':
			i = skipSpace(raw, i+1)
		case i < len(raw) && raw[i] == '}':
			return hs, skipSpace(raw, i+1) == len(raw)
		default:
			return nil, false
		}
	}
}

// plainString reads the JSON string at raw[i:] if it has no escape and is
// valid UTF-8: its contents (a copy) and the index after it.
func plainString(raw []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(raw) || raw[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(raw); j++ {
		switch c := raw[j]; {
		case c == '"':
			s = append([]byte(nil), raw[i+1:j]...)
			return s, j + 1, utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}
