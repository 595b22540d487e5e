package outbox

import (
	"encoding/json"
	"maps"
	"testing"
)

// Headers written by hand read back as encoding/json reads them, and a
// header that needs escaping takes encoding/json's path both ways.
func TestHeadersRoundTripAsEncodingJSONReadsThem(t *testing.T) {
	for _, hs := range []map[string]string{
		{},
		{"message-id": "0193a6f0-0000-7000-8000-000000000001", "type": "thing.do", "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		{"quote": `say "hi"`, "back\\slash": `a\b`, "tab": "a\tb", "html": "<a href='x'>&</a>"},
		{"unicode": "café ☕", "emoji": "😀", "ctl": "\x01\x1f", "bad-utf8": "\xff\xfe"},
		{"": "", "empty": ""},
	} {
		raw, err := encodeHeaders(hs)
		if err != nil {
			t.Fatalf("encode %v: %v", hs, err)
		}
		var viaJSON map[string]string
		if err := json.Unmarshal([]byte(raw), &viaJSON); err != nil {
			t.Fatalf("encoding/json cannot read %s: %v", raw, err)
		}
		// What the relay reads: as written, and as PostgreSQL prints jsonb.
		for _, form := range []string{raw, pgForm(t, raw)} {
			got, err := decodeHeaders([]byte(form))
			if err != nil {
				t.Fatalf("decode %s: %v", form, err)
			}
			m := map[string]string{}
			for _, h := range got {
				m[h.Key] = string(h.Value)
			}
			if !maps.Equal(m, viaJSON) {
				t.Errorf("decode %s = %v, want %v", form, m, viaJSON)
			}
		}
	}
}

// pgForm spaces raw out as PostgreSQL prints a jsonb object.
func pgForm(t *testing.T, raw string) string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatal(err)
	}
	out := "{"
	for k, v := range m {
		if len(out) > 1 {
			out += ", "
		}
		kj, _ := json.Marshal(k)
		vj, _ := json.Marshal(v)
		out += string(kj) + ": " + string(vj)
	}
	return out + "}"
}

// Anything but a flat object of strings is an error, as with
// encoding/json, never a panic.
func TestHeadersThatAreNotAnObjectOfStringsAreRefused(t *testing.T) {
	for _, raw := range []string{``, `[]`, `{"a": 1}`, `{"a": "b"`, `{"a" "b"}`, `{"a": "b",}`, `{"a": "b"} x`, `null x`, `{"a": {"b": "c"}}`} {
		if _, err := decodeHeaders([]byte(raw)); err == nil {
			t.Errorf("decode %q: no error", raw)
		}
	}
}
