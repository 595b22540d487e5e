package e2e

import (
	"testing"

	"github.com/purchase-saga/messaging/processtest"
)

// TestMain removes the binaries the tests built once they have all run.
func TestMain(m *testing.M) { processtest.Main(m) }
