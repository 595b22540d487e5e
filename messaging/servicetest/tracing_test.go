package servicetest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/outbox"
	"github.com/purchase-saga/messaging/service"
	"github.com/purchase-saga/messaging/servicetest"
	"github.com/purchase-saga/messaging/testbroker"
	"github.com/purchase-saga/messaging/trace"
	"github.com/purchase-saga/messaging/trace/spantest"
)

// TestARequestAndTheMessagesItCausesAreOneTrace runs two services on one
// broker: front writes a command to its outbox for each POST, worker
// answers it with a reply, and front consumes the reply. Every span of
// that round, from the request to the reply's apply, is in the request's
// trace, each the child of the one before it.
func TestARequestAndTheMessagesItCausesAreOneTrace(t *testing.T) {
	spans := spantest.Record(t)
	b := testbroker.New(t, 2)
	topics := service.Topics{Names: []string{"commands", "replies", "commands.dlt", "replies.dlt"}}
	dlt := func(topic string) string { return topic + ".dlt" }
	worker := service.Spec[struct{}]{Name: "worker", Migrate: migrate, Topics: topics,
		Wire: func(_ context.Context, s *service.Service, _ struct{}) (http.Handler, error) {
			return nil, s.Consume(service.Subscription{Topics: []string{"commands"}, DeadLetterTopic: dlt,
				Handler: func(ctx context.Context, tx pgx.Tx, d consumer.Delivery) error {
					return outbox.Send(ctx, tx, "replies", "done", d.Message.SagaID, echo{})
				}})
		}}
	sagas := make(chan string, 1)
	front := service.Spec[struct{}]{Name: "front", Migrate: migrate, Topics: topics,
		Wire: func(_ context.Context, s *service.Service, _ struct{}) (http.Handler, error) {
			err := s.Consume(service.Subscription{Topics: []string{"replies"}, DeadLetterTopic: dlt,
				Handler: func(ctx context.Context, _ pgx.Tx, _ consumer.Delivery) error {
					select {
					case sagas <- trace.SagaID(ctx):
					default:
					}
					return nil
				}})
			mux := http.NewServeMux()
			mux.HandleFunc("POST /things/{id}", func(w http.ResponseWriter, r *http.Request) {
				err := pgx.BeginFunc(r.Context(), s.Pool, func(tx pgx.Tx) error {
					return outbox.Send(r.Context(), tx, "commands", "do", r.PathValue("id"), echo{})
				})
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				w.WriteHeader(http.StatusCreated)
			})
			return mux, err
		}}
	servicetest.StartOn(t, b, worker, struct{}{})
	url := servicetest.StartOn(t, b, front, struct{}{}).URL

	if r := servicetest.Do(t, http.MethodPost, url+"/things/t-1", "", "", ""); r.Status != http.StatusCreated {
		t.Fatalf("POST: %d %s", r.Status, r.Raw)
	}
	select {
	case saga := <-sagas:
		if saga != "t-1" {
			t.Errorf("the reply was applied about saga %q, want t-1", saga)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no reply applied within 30s")
	}
	// Each span is the child of the one before it.
	chain := []string{"POST /things/{id}", "outbox write", "publish commands", "process commands",
		"outbox write", "publish replies", "process replies"}
	var got tracetest.SpanStubs
	deadline := time.Now().Add(10 * time.Second)
	for {
		got = spans.GetSpans()
		if len(spantest.Named(spans, "process replies")) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	byID := map[string]tracetest.SpanStub{}
	var root tracetest.SpanStub
	for _, s := range got {
		byID[s.SpanContext.SpanID().String()] = s
		if s.Name == chain[0] {
			root = s
		}
	}
	if root.Name == "" {
		t.Fatalf("no span %q among %d", chain[0], len(got))
	}
	// Walk down: from each span to the child of the next name.
	at := root
	for _, name := range chain[1:] {
		var next *tracetest.SpanStub
		for i := range got {
			if got[i].Name == name && got[i].Parent.SpanID() == at.SpanContext.SpanID() {
				next = &got[i]
			}
		}
		if next == nil {
			t.Fatalf("no span %q under %q (%s); spans: %s", name, at.Name, at.SpanContext.SpanID(), names(got))
		}
		if next.SpanContext.TraceID() != root.SpanContext.TraceID() {
			t.Errorf("span %q in trace %s, want the request's %s", name, next.SpanContext.TraceID(), root.SpanContext.TraceID())
		}
		at = *next
	}
}

func names(spans tracetest.SpanStubs) string {
	out := ""
	for _, s := range spans {
		out += s.Name + " (" + s.SpanContext.SpanID().String() + " under " + s.Parent.SpanID().String() + "); "
	}
	return out
}
