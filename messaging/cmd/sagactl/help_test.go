package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// Every command answers --help with its own usage and flags on stdout, and
// that is no error (main exits 0).
func TestEveryCommandHasItsHelp(t *testing.T) {
	for _, c := range commands {
		cmd := c.name
		var out, errOut bytes.Buffer
		err := run(context.Background(), append(strings.Fields(cmd), "--help"), &out, &errOut)
		if err != nil {
			t.Errorf("%s --help: %v, want no error", cmd, err)
		}
		if !strings.HasPrefix(out.String(), "usage: sagactl "+cmd) || !strings.Contains(out.String(), "flags:\n  -") {
			t.Errorf("%s --help printed %q, want its usage and flags", cmd, out.String())
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, &out, &out); err != nil || !strings.Contains(out.String(), "sagactl dlt replay") {
		t.Errorf("sagactl --help: %v, %q; want the overview", err, out.String())
	}
}

// A call that is wrong says what is wrong: the flag, the command.
func TestUsageErrorsNameTheProblem(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"dlt", "list", "--topic", "t", "--limt", "3"}, "dlt list: flag provided but not defined: -limt"},
		{[]string{"dlt", "list", "--topic", "t", "--limit", "x"}, `dlt list: invalid value "x" for flag -limit`},
		{[]string{"dlt", "list"}, "dlt list: --topic is required"},
		{[]string{"dlt", "list", "--topic", "t", "--since", "yesterday"}, `invalid value "yesterday" for flag -since`},
		{[]string{"dlt", "lst"}, `unknown command "dlt lst"`},
		{nil, "which command?"},
	} {
		err := run(context.Background(), tt.args, &bytes.Buffer{}, &bytes.Buffer{})
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("sagactl %v: %v, want a usage error saying %q", tt.args, err, tt.want)
		}
	}
}

func TestSinceTakesDurationsDaysAndTimes(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"90m":                  now.Add(-90 * time.Minute),
		"7d":                   now.Add(-7 * 24 * time.Hour),
		"2026-11-28T08:00:00Z": time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC),
	} {
		if got, err := parseSince(in, now); err != nil || !got.Equal(want) {
			t.Errorf("--since %s: %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "d", "-1h", "-2d", "2026-11-28"} {
		if _, err := parseSince(bad, now); err == nil {
			t.Errorf("--since %q was accepted", bad)
		}
	}
}
