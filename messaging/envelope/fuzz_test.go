package envelope

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecode checks that Decode never panics, that every refusal is
// ErrInvalid, and that what it accepts is a valid message with no NUL
// that survives an encode and decode unchanged.
func FuzzDecode(f *testing.F) {
	good, err := New("thing.do", "01900000-0000-7000-8000-000000000001", map[string]any{"lines": []int{1}})
	if err != nil {
		f.Fatal(err)
	}
	value, err := good.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(value)
	f.Add([]byte(`{"id":"01900000-0000-7000-8000-000000000001","type":"t","saga_id":"s","data":{"a":"\u0000"}}`))
	f.Add([]byte(`{"id":"urn:uuid:01900000-0000-7000-8000-000000000001","type":"t","saga_id":"s","data":[]}`))
	f.Add([]byte("{\"id\":\"01900000-0000-7000-8000-000000000001\",\"type\":\"\xff\",\"saga_id\":\"s\",\"data\":1}"))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, value []byte) {
		m, err := Decode(value)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Decode(%q) = %v, not ErrInvalid", value, err)
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("Decode(%q) accepted an invalid message: %v", value, err)
		}
		if strings.ContainsRune(m.Type+m.SagaID, 0) || ContainsNUL(m.Data) || !utf8.Valid(m.Data) {
			t.Fatalf("Decode(%q) accepted a NUL or broken UTF-8", value)
		}
		again, err := m.Encode()
		if err != nil {
			t.Fatalf("Encode of decoded %q: %v", value, err)
		}
		back, err := Decode(again)
		if err != nil {
			t.Fatalf("Decode of re-encoded %q: %v", again, err)
		}
		if back.ID != m.ID || back.Type != m.Type || back.SagaID != m.SagaID || !back.OccurredAt.Equal(m.OccurredAt) {
			t.Fatalf("round trip changed the message: %+v, then %+v", m, back)
		}
		var was, is bytes.Buffer
		if json.Compact(&was, m.Data) != nil || json.Compact(&is, back.Data) != nil || was.String() != is.String() {
			t.Fatalf("round trip changed the data: %s, then %s", m.Data, back.Data)
		}
	})
}
