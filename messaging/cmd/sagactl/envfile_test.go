package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeEnvFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestEnvFileFillsWhatTheEnvironmentLeavesUnset(t *testing.T) {
	path := writeEnvFile(t, "# make run\nKAFKA_BROKERS=127.0.0.1:19092\n\nADMIN_TOKEN=from-file\nORDER_DATABASE_URL=postgres://x/orderdb?sslmode=disable\n")
	t.Setenv("SAGACTL_ENV", path)
	t.Setenv("ADMIN_TOKEN", "from-command-line")
	t.Setenv("KAFKA_BROKERS", "")
	os.Unsetenv("KAFKA_BROKERS") // t.Setenv restores it after the test
	t.Setenv("ORDER_DATABASE_URL", "")
	os.Unsetenv("ORDER_DATABASE_URL")
	if err := loadEnvFile(); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"KAFKA_BROKERS":      "127.0.0.1:19092",
		"ADMIN_TOKEN":        "from-command-line",
		"ORDER_DATABASE_URL": "postgres://x/orderdb?sslmode=disable",
	} {
		if got := os.Getenv(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
}

func TestEnvFileNamedButMissingOrMalformedIsAnError(t *testing.T) {
	t.Setenv("SAGACTL_ENV", filepath.Join(t.TempDir(), "absent"))
	if err := loadEnvFile(); err == nil || !strings.Contains(err.Error(), "absent") {
		t.Errorf("missing named file: err = %v, want one naming it", err)
	}
	t.Setenv("SAGACTL_ENV", writeEnvFile(t, "KAFKA_BROKERS=a:1\nnot a setting\n"))
	if err := loadEnvFile(); err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Errorf("malformed line: err = %v, want one naming line 2", err)
	}
}

func TestNoRunEnvIsNoError(t *testing.T) {
	t.Setenv("SAGACTL_ENV", "")
	t.Chdir(t.TempDir())
	if err := loadEnvFile(); err != nil {
		t.Errorf("no run/env: %v", err)
	}
}
