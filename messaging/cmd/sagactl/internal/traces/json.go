package traces

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// idFields are the fields OTLP/JSON writes as hex, where ProtoJSON would
// write base64: trace and span ids, of spans and of links.
var idFields = map[string]bool{"traceId": true, "spanId": true, "parentSpanId": true,
	"trace_id": true, "span_id": true, "parent_span_id": true}

// unmarshalJSON decodes OTLP/JSON into m: ProtoJSON but for the ids, in
// hex, which it turns into base64 first. An id that is not hex is left to
// ProtoJSON, as base64.
func unmarshalJSON(b []byte, m proto.Message) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return err
	}
	hexToBase64(tree)
	b, err := json.Marshal(tree)
	if err != nil {
		return err
	}
	return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, m)
}

func hexToBase64(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && idFields[k] {
				if raw, err := hex.DecodeString(s); err == nil && (len(raw) == 16 || len(raw) == 8) {
					x[k] = base64.StdEncoding.EncodeToString(raw)
				}
				continue
			}
			hexToBase64(e)
		}
	case []any:
		for _, e := range x {
			hexToBase64(e)
		}
	}
}

// marshalJSON encodes an answer (a response or a status: no ids).
func marshalJSON(m proto.Message) ([]byte, error) {
	return protojson.MarshalOptions{}.Marshal(m)
}
