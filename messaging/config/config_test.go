package config

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

type sample struct {
	URL      string        `env:"DATABASE_URL" required:"true"`
	Token    string        `env:"ADMIN_TOKEN" secret:"true"`
	Attempts int           `env:"MAX_ATTEMPTS" default:"5"`
	Timeout  time.Duration `env:"SAGA_TIMEOUT" default:"30s"`
	Brokers  []string      `env:"KAFKA_BROKERS" default:"127.0.0.1:9092"`
	Verbose  bool          `env:"VERBOSE" default:"false"`
}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadDefaultsAndOverrides(t *testing.T) {
	var c sample
	err := Load(&c, env(map[string]string{
		"DATABASE_URL": "postgres://u:pw@h/db", "MAX_ATTEMPTS": "7", "KAFKA_BROKERS": "a:1, b:2",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Attempts, 7; got != want {
		t.Errorf("attempts = %d, want %d", got, want)
	}
	if got, want := c.Timeout, 30*time.Second; got != want {
		t.Errorf("timeout = %v, want %v", got, want)
	}
	if got, want := strings.Join(c.Brokers, "|"), "a:1|b:2"; got != want {
		t.Errorf("brokers = %q, want %q", got, want)
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	var c sample
	err := Load(&c, env(map[string]string{"MAX_ATTEMPTS": "x", "SAGA_TIMEOUT": "soon"}))
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"DATABASE_URL is required", "MAX_ATTEMPTS", "SAGA_TIMEOUT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestMaskedHidesSecrets(t *testing.T) {
	c := sample{URL: "postgres://u:pw@h/db", Token: "s3cret"}
	got := fmt.Sprint(Masked(&c))
	if strings.Contains(got, "s3cret") || strings.Contains(got, "pw@") {
		t.Errorf("masked config leaks a secret: %s", got)
	}
	if !strings.Contains(got, "ADMIN_TOKEN ***") {
		t.Errorf("masked config = %s, want ADMIN_TOKEN ***", got)
	}
}

func TestMaskedHidesKeyValuePasswords(t *testing.T) {
	c := sample{URL: "host=h user=u password=s3cret"}
	if got := fmt.Sprint(Masked(&c)); strings.Contains(got, "s3cret") {
		t.Errorf("masked config leaks a password: %s", got)
	}
}
