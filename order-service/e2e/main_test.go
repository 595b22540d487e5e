package e2e

import (
	"os"
	"testing"
)

// TestMain removes the binaries the tests built once they have all run.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}
