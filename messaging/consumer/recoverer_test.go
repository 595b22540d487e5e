package consumer_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/envelope"
)

func delivery(t *testing.T, msgType string, data any) consumer.Delivery {
	t.Helper()
	m, err := envelope.New(msgType, "k", data)
	if err != nil {
		t.Fatal(err)
	}
	return consumer.Delivery{Message: m, Topic: "in", Partition: 2, Offset: 7, Headers: map[string]string{}}
}

func TestRecovererTurnsAPanicIntoPoisonAndLogsIt(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	h := consumer.Recoverer(log)(func(context.Context, pgx.Tx, consumer.Delivery) error {
		panic("handler bug")
	})
	err := h(context.Background(), nil, delivery(t, "test.event", nil))
	if !errors.Is(err, consumer.ErrPoison) {
		t.Fatalf("error %v, want one wrapping ErrPoison", err)
	}
	if !strings.Contains(err.Error(), "handler panicked: handler bug") {
		t.Errorf("error %q does not say the handler panicked", err)
	}
	for _, want := range []string{"level=ERROR", "handler panicked", "topic=in", "partition=2", "offset=7", "stack="} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log %q lacks %q", logs.String(), want)
		}
	}
}

func TestRecovererPassesResultsThrough(t *testing.T) {
	errFailed := errors.New("failed")
	for _, want := range []error{nil, errFailed} {
		h := consumer.Recoverer(slog.New(slog.DiscardHandler))(func(context.Context, pgx.Tx, consumer.Delivery) error {
			return want
		})
		if got := h(context.Background(), nil, delivery(t, "test.event", nil)); got != want {
			t.Errorf("error %v, want %v unchanged", got, want)
		}
	}
}
