package main

import (
	"os"
	"testing"
)

// childEnv, set in a process's environment, makes the test binary behave as
// the casefile binary: tests that need real, separate processes (several
// `serve` and `worker` processes, one killed mid-work) start this test
// binary again with it, instead of building a second binary.
const childEnv = "CASEFILE_TEST_AS_CASEFILE"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}
