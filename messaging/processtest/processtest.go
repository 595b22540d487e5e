// Package processtest helps the end-to-end tests that run the project's
// real binaries as processes: where the workspace is, a free loopback
// address, and the binaries built once per test run.
package processtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// WorkspaceRoot is the directory of the go.work above the test's own.
func WorkspaceRoot(t testing.TB) string {
	t.Helper()
	root, err := workspaceRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func workspaceRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.work above the test directory")
		}
		dir = parent
	}
}

// FreeAddr is a loopback host:port free when it returns (another process
// may take it before the caller listens there: tests that restart a
// process on one address keep it otherwise).
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Commands are the binaries Binaries builds: the three services, the dev
// broker and sagactl.
var Commands = []string{"./order-service", "./stock-service", "./payment-service",
	"./messaging/cmd/devbroker", "./messaging/cmd/sagactl"}

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// Binaries builds Commands from the workspace once per test binary and
// returns the directory that holds them, named as their packages
// (order-service, devbroker, sagactl, ...).
func Binaries(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := workspaceRoot()
		if err != nil {
			buildErr = err
			return
		}
		if binDir, buildErr = os.MkdirTemp("", "saga-e2e-bin-"); buildErr != nil {
			return
		}
		cmd := exec.Command("go", append([]string{"build", "-o", binDir + "/"}, Commands...)...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

// Main runs a package's tests (from its TestMain) and removes the
// binaries Binaries built for them before it exits.
func Main(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}
