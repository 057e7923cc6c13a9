package jsonl

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine started by the output outlives Stop.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
