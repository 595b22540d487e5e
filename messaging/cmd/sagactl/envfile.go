package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// defaultEnvFile is where make run writes its run's settings (RUN_DIR/env),
// relative to the directory sagactl runs in: the repository's root.
const defaultEnvFile = "run/env"

// loadEnvFile sets, from the KEY=VALUE lines of the file SAGACTL_ENV names
// (else run/env when there is one), every variable the environment does
// not set already: so sagactl reaches the broker and databases of the
// make run it sits beside, whatever their ports, and a variable set on the
// command line still wins. A file SAGACTL_ENV names must exist; a missing
// run/env is no error.
func loadEnvFile() error {
	path, named := os.LookupEnv("SAGACTL_ENV")
	if !named || path == "" {
		path, named = defaultEnvFile, false
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && !named {
		return nil
	}
	if err != nil {
		return fmt.Errorf("settings file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || key == "" || strings.ContainsAny(key, " \t") {
			return fmt.Errorf("settings file %s:%d: want KEY=VALUE, got %q", path, n, line)
		}
		if _, set := os.LookupEnv(key); !set {
			if err := os.Setenv(key, value); err != nil {
				return fmt.Errorf("settings file %s:%d: %w", path, n, err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("settings file %s: %w", path, err)
	}
	return nil
}
