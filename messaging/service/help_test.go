package service

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// --help lists the environment a service reads, its own settings too,
// and needs none of it set.
func TestHelpListsTheEnvironment(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	type own struct {
		Widgets int `env:"WIDGETS" default:"3"`
	}
	spec := Spec[own]{Name: "test-service", DefaultAddr: "127.0.0.1:9999"}
	var out bytes.Buffer
	if err := run(context.Background(), spec, []string{"--help"}, &out); err != nil {
		t.Fatalf("--help: %v", err)
	}
	for _, want := range []string{"usage: test-service [migrate]", "DATABASE_URL", "(required)", "KAFKA_BROKERS", "127.0.0.1:9092",
		"HTTP_ADDR", "127.0.0.1:9999", "WIDGETS", "3"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help lacks %q:\n%s", want, out.String())
		}
	}
}
