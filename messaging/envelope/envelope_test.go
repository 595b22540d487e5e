package envelope

import (
	"errors"
	"testing"
)

func TestDecodeRejectsWhatIsNotAMessage(t *testing.T) {
	good, err := New("thing.do", "o1", map[string]int{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	value, err := good.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Decode(value); err != nil || got.ID != good.ID || got.Type != good.Type || got.SagaID != "o1" {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	if good.ID.Version() != 7 {
		t.Errorf("message id is UUID version %d, want 7", good.ID.Version())
	}
	for name, v := range map[string]string{
		"not json":     `{"id":`,
		"no id":        `{"type":"t","saga_id":"s","data":{}}`,
		"no type":      `{"id":"01900000-0000-7000-8000-000000000001","saga_id":"s","data":{}}`,
		"no saga id":   `{"id":"01900000-0000-7000-8000-000000000001","type":"t","data":{}}`,
		"no data":      `{"id":"01900000-0000-7000-8000-000000000001","type":"t","saga_id":"s"}`,
		"null data":    `{"id":"01900000-0000-7000-8000-000000000001","type":"t","saga_id":"s","data":null}`,
		"bad id":       `{"id":"x","type":"t","saga_id":"s","data":{}}`,
		"array":        `[]`,
		"empty string": ``,
		"NUL in data":  `{"id":"01900000-0000-7000-8000-000000000001","type":"t","saga_id":"s","data":{"order_id":"a\u0000"}}`,
		"NUL in type":  `{"id":"01900000-0000-7000-8000-000000000001","type":"t\u0000","saga_id":"s","data":{}}`,
		"NUL in key":   `{"id":"01900000-0000-7000-8000-000000000001","type":"t","saga_id":"s","data":{"\u0000":1}}`,
		"bad UTF-8":    "{\"id\":\"01900000-0000-7000-8000-000000000001\",\"type\":\"t\",\"saga_id\":\"s\",\"data\":{\"a\":\"\xff\"}}",
	} {
		if _, err := Decode([]byte(v)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Decode(%q) = %v, want ErrInvalid", name, v, err)
		}
	}
}

func TestDecodeDataReportsInvalid(t *testing.T) {
	m, _ := New("t", "s", map[string]string{"n": "not a number"})
	var v struct{ N int }
	if err := m.DecodeData(&v); !errors.Is(err, ErrInvalid) {
		t.Errorf("DecodeData = %v, want ErrInvalid", err)
	}
}
