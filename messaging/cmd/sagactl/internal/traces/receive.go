package traces

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
)

// Content types of OTLP/HTTP.
const (
	contentProtobuf = "application/x-protobuf"
	contentJSON     = "application/json"
)

// DefaultMaxBody bounds an export's body, compressed or not: an exporter's
// batch (512 spans by default) is a small fraction of it.
const DefaultMaxBody = 16 << 20

// Receiver is the OTLP/HTTP trace endpoint (POST /v1/traces): it accepts
// an ExportTraceServiceRequest as protobuf or JSON, gzipped or not, keeps
// its spans in Store and answers as the OTLP/HTTP specification says: 200
// and an ExportTraceServiceResponse in the request's encoding (with a
// partial success naming the spans it could not read), 400 and a
// google.rpc.Status for a body it cannot decode, 413 for a body over
// MaxBody, 415 for another content type or encoding.
type Receiver struct {
	Store *Store
	// MaxBody bounds the body, before and after decompression (default
	// DefaultMaxBody).
	MaxBody int64
}

func (rc Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	limit := rc.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != contentProtobuf && ct != contentJSON {
		writeStatus(w, contentProtobuf, http.StatusUnsupportedMediaType, "content type: want "+contentProtobuf+" or "+contentJSON)
		return
	}
	body, err := readBody(w, r, limit)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeStatus(w, ct, http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", limit))
		return
	case errors.Is(err, errEncoding):
		writeStatus(w, ct, http.StatusUnsupportedMediaType, err.Error())
		return
	case err != nil:
		writeStatus(w, ct, http.StatusBadRequest, err.Error())
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if ct == contentJSON {
		err = unmarshalJSON(body, &req)
	} else {
		err = proto.Unmarshal(body, &req)
	}
	if err != nil {
		writeStatus(w, ct, http.StatusBadRequest, "decode export: "+err.Error())
		return
	}
	spans, rejected := FromOTLP(&req)
	rc.Store.Add(spans)
	resp := &coltracepb.ExportTraceServiceResponse{}
	if rejected > 0 {
		resp.PartialSuccess = &coltracepb.ExportTracePartialSuccess{RejectedSpans: int64(rejected),
			ErrorMessage: "spans without a valid trace id or span id were dropped"}
	}
	write(w, ct, http.StatusOK, resp)
}

var errEncoding = errors.New("content encoding: want gzip or none")

// readBody reads the body, decompressed, refusing more than limit bytes
// either way with an *http.MaxBytesError.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	raw := http.MaxBytesReader(w, r.Body, limit)
	var rd io.Reader = raw
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(raw)
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return nil, err
			}
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		rd = io.LimitReader(zr, limit+1)
	default:
		return nil, fmt.Errorf("%w, not %q", errEncoding, enc)
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	return b, nil
}

// write answers m in the encoding ct names.
func write(w http.ResponseWriter, ct string, code int, m proto.Message) {
	var b []byte
	var err error
	if ct == contentJSON {
		b, err = marshalJSON(m)
	} else {
		b, err = proto.Marshal(m)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// writeStatus answers an error as OTLP/HTTP does: a google.rpc.Status,
// in the request's encoding (protobuf when it has none the console reads).
func writeStatus(w http.ResponseWriter, ct string, code int, msg string) {
	grpcCode := int32(3) // INVALID_ARGUMENT
	switch code {
	case http.StatusRequestEntityTooLarge:
		grpcCode = 8 // RESOURCE_EXHAUSTED
	case http.StatusUnsupportedMediaType:
		grpcCode = 12 // UNIMPLEMENTED
	}
	write(w, ct, code, &statuspb.Status{Code: grpcCode, Message: msg})
}

// FromOTLP returns the spans of an export, and how many it had to drop
// for want of a valid trace id or span id.
func FromOTLP(req *coltracepb.ExportTraceServiceRequest) (spans []Span, rejected int) {
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				service = value(kv.GetValue())
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				sp, ok := fromOTLP(s, service)
				if !ok {
					rejected++
					continue
				}
				spans = append(spans, sp)
			}
		}
	}
	return spans, rejected
}

func fromOTLP(s *tracepb.Span, service string) (Span, bool) {
	if len(s.GetTraceId()) != len(TraceID{}) || len(s.GetSpanId()) != 8 || TraceID(s.GetTraceId()) == (TraceID{}) {
		return Span{}, false
	}
	sp := Span{TraceID: TraceID(s.GetTraceId()), SpanID: hex.EncodeToString(s.GetSpanId()), Service: clip(service), Name: clip(s.GetName()),
		Kind:  kindName(s.GetKind()),
		Start: time.Unix(0, int64(s.GetStartTimeUnixNano())), End: time.Unix(0, int64(s.GetEndTimeUnixNano())),
		Error: s.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR, Status: clip(s.GetStatus().GetMessage())}
	if p := s.GetParentSpanId(); len(p) == 8 {
		sp.ParentID = hex.EncodeToString(p)
	}
	if sp.End.Before(sp.Start) {
		sp.End = sp.Start
	}
	for _, kv := range s.GetAttributes() {
		if len(sp.Attributes) == maxAttributes {
			break
		}
		sp.Attributes = append(sp.Attributes, clip(kv.GetKey()+"="+value(kv.GetValue())))
	}
	return sp, true
}

// A span kept holds at most maxAttributes attributes and texts of at most
// maxText bytes: the store is bounded by spans, and so each span must be.
const (
	maxAttributes = 32
	maxText       = 256
)

// clip cuts s to maxText bytes, on a rune boundary.
func clip(s string) string {
	if len(s) <= maxText {
		return s
	}
	cut := maxText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func kindName(k tracepb.Span_SpanKind) string {
	switch k {
	case tracepb.Span_SPAN_KIND_SERVER:
		return "server"
	case tracepb.Span_SPAN_KIND_CLIENT:
		return "client"
	case tracepb.Span_SPAN_KIND_PRODUCER:
		return "producer"
	case tracepb.Span_SPAN_KIND_CONSUMER:
		return "consumer"
	case tracepb.Span_SPAN_KIND_INTERNAL:
		return "internal"
	}
	return "unspecified"
}

// value is an attribute's value as text.
func value(v *commonpb.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_BoolValue:
		return strconv.FormatBool(x.BoolValue)
	case *commonpb.AnyValue_IntValue:
		return strconv.FormatInt(x.IntValue, 10)
	case *commonpb.AnyValue_DoubleValue:
		return strconv.FormatFloat(x.DoubleValue, 'g', -1, 64)
	case *commonpb.AnyValue_BytesValue:
		return hex.EncodeToString(x.BytesValue)
	case *commonpb.AnyValue_ArrayValue:
		var parts []string
		for _, e := range x.ArrayValue.GetValues() {
			parts = append(parts, value(e))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	var b bytes.Buffer
	for i, kv := range v.GetKvlistValue().GetValues() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(kv.GetKey() + "=" + value(kv.GetValue()))
	}
	return b.String()
}
