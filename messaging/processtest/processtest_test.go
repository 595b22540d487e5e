package processtest_test

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/purchase-saga/messaging/processtest"
)

func TestWorkspaceRootHoldsGoWork(t *testing.T) {
	root := processtest.WorkspaceRoot(t)
	if _, err := os.Stat(filepath.Join(root, "go.work")); err != nil {
		t.Errorf("WorkspaceRoot() = %s: %v", root, err)
	}
}

func TestFreeAddrCanBeListenedOn(t *testing.T) {
	addr := processtest.FreeAddr(t)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on FreeAddr() %s: %v", addr, err)
	}
	ln.Close()
}
