package console

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/cmd/sagactl/internal/timeline"
	"github.com/purchase-saga/messaging/cmd/sagactl/internal/traces"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/outbox"
	"github.com/purchase-saga/messaging/testdb"
	"github.com/purchase-saga/migrations"
)

// services record spans as the three services would, each under its own
// service.name, to be exported by the real OTLP exporter.
type services map[string]*tracetest.SpanRecorder

func (s services) tracer(name string) oteltrace.Tracer {
	rec := tracetest.NewSpanRecorder()
	s[name] = rec
	res := resource.NewSchemaless(attribute.String("service.name", name))
	return sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithResource(res)).Tracer("test")
}

// A saga's trace, exported by the SDK's OTLP/HTTP exporter to the
// console (protobuf, gzipped protobuf, JSON), is kept and shown on the
// saga's trace page as a waterfall under the trace id its outbox rows
// carry; the saga page links to it.
func TestConsoleCollectsAnOTLPExportAndShowsTheSagasTrace(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts []otlptracehttp.Option
	}{
		{"protobuf", nil},
		{"protobuf-gzip", []otlptracehttp.Option{otlptracehttp.WithCompression(otlptracehttp.GzipCompression)}},
		{"json", []otlptracehttp.Option{otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON)}},
		{"json-gzip", []otlptracehttp.Option{otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON),
			otlptracehttp.WithCompression(otlptracehttp.GzipCompression)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			pool := testdb.New(t, migrations.For(migrations.Order)).Pool
			store := traces.NewStore(100)
			h, err := (&Server{Src: timeline.Sources{DBs: map[string]*pgxpool.Pool{timeline.OrderDB: pool}}, Traces: store}).Handler()
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()

			svc := services{}
			order, stock := svc.tracer("order-service"), svc.tracer("stock-service")
			reqCtx, post := order.Start(ctx, "POST /orders", oteltrace.WithSpanKind(oteltrace.SpanKindServer))
			id := placeOrder(t, reqCtx, pool)
			_, publish := order.Start(reqCtx, "publish stock", oteltrace.WithSpanKind(oteltrace.SpanKindProducer))
			publish.End()
			post.End()
			_, process := stock.Start(oteltrace.ContextWithSpan(ctx, publish), "process stock", oteltrace.WithSpanKind(oteltrace.SpanKindConsumer))
			process.SetStatus(codes.Error, "stock unreachable")
			process.End()

			// Before the export, the page says how to send spans here.
			if body := get(t, srv.URL+"/sagas/"+id+"/trace"); !strings.Contains(body, "OTEL_EXPORTER_OTLP_ENDPOINT="+srv.URL) {
				t.Errorf("the trace page without spans does not say how to send them:\n%s", body)
			}
			exp, err := otlptracehttp.New(ctx, append(tt.opts, otlptracehttp.WithEndpointURL(srv.URL+"/v1/traces"))...)
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range svc {
				if err := exp.ExportSpans(ctx, rec.Ended()); err != nil {
					t.Fatalf("export: %v", err)
				}
			}
			_ = exp.Shutdown(ctx)

			traceID, _ := traces.ParseTraceID(post.SpanContext().TraceID().String())
			if got := store.Trace(traceID); len(got) != 3 {
				t.Fatalf("the store holds %d spans of the trace, want 3: %+v", len(got), got)
			}
			page := get(t, srv.URL+"/sagas/"+id+"/trace")
			for _, want := range []string{post.SpanContext().TraceID().String(), "3 span(s) from order-service, stock-service",
				"POST /orders", "publish stock", "process stock", "server", "producer", "consumer",
				`class="span span-error"`, "error: stock unreachable", `<i class="indent"></i><i class="indent"></i>process stock`} {
				if !strings.Contains(page, want) {
					t.Errorf("the trace page lacks %q:\n%s", want, page)
				}
			}
			if body := get(t, srv.URL+"/sagas/"+id); !strings.Contains(body, "3 span(s) received") || !strings.Contains(body, "/sagas/"+id+"/trace") {
				t.Errorf("the saga page does not link to its trace:\n%s", body)
			}
		})
	}
}

// placeOrder writes an order and its outbox rows under ctx's span, as
// order-service does for POST /orders: the rows carry its traceparent.
func placeOrder(t *testing.T, ctx context.Context, pool *pgxpool.Pool) string {
	t.Helper()
	m, err := envelope.New("stock.reserve", "", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	id := m.ID.String()
	m.SagaID = id
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO orders (id, customer_id, lines, amount_cents, currency, status, failure_reason, steps, deadline, created_at, updated_at)
			VALUES ($1, 'alice', '[]', 100, 'EUR', 'PENDING', '', '{}', now() + interval '30 seconds', now(), now())`, id); err != nil {
			return err
		}
		return outbox.Write(ctx, tx, outbox.Record{Topic: topic.Stock, Key: id, Message: m})
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

// The collector refuses what it cannot take as OTLP/HTTP says: 415 for
// another content type or encoding, 413 over its size limit (compressed
// or not), 400 for a body that is not an export; and needs no token.
func TestTraceCollectorRefusesWhatItCannotTake(t *testing.T) {
	h, err := (&Server{Token: "sesame", TraceMaxBody: 1024}).Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	_, _ = zw.Write(make([]byte, 4096))
	_ = zw.Close()
	for _, tt := range []struct {
		name, ctype, encoding string
		body                  []byte
		code                  int
	}{
		{"empty export", "application/x-protobuf", "", nil, http.StatusOK},
		{"empty json export", "application/json", "", []byte(`{}`), http.StatusOK},
		{"text", "text/plain", "", []byte("hello"), http.StatusUnsupportedMediaType},
		{"brotli", "application/x-protobuf", "br", []byte("x"), http.StatusUnsupportedMediaType},
		{"too large", "application/x-protobuf", "", make([]byte, 2048), http.StatusRequestEntityTooLarge},
		{"too large once unzipped", "application/x-protobuf", "gzip", bomb.Bytes(), http.StatusRequestEntityTooLarge},
		{"not json", "application/json", "", []byte("{"), http.StatusBadRequest},
		{"not protobuf", "application/x-protobuf", "", []byte{0xff, 0xff, 0xff}, http.StatusBadRequest},
		{"not gzip", "application/json", "gzip", []byte("{}"), http.StatusBadRequest},
	} {
		req, _ := http.NewRequest("POST", srv.URL+"/v1/traces", bytes.NewReader(tt.body))
		req.Header.Set("Content-Type", tt.ctype)
		if tt.encoding != "" {
			req.Header.Set("Content-Encoding", tt.encoding)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code {
			t.Errorf("%s: %d %q, want %d", tt.name, resp.StatusCode, body, tt.code)
		}
		if tt.code == http.StatusBadRequest && resp.Header.Get("Content-Type") != tt.ctype {
			t.Errorf("%s: answered %q, want a status in the request's encoding %s", tt.name, resp.Header.Get("Content-Type"), tt.ctype)
		}
	}
}
