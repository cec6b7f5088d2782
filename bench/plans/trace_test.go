package main

import (
	"os"
	"os/exec"
	"testing"
)

// TestMain lets the test binary be the processes TestTracePeaks measures.
func TestMain(m *testing.M) {
	switch os.Getenv("PLANS_TEST_ROLE") {
	case "parent": // 64 MiB, then a child that touches 16 MiB
		hold(64 << 20)
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "PLANS_TEST_ROLE=child")
		if err := cmd.Run(); err != nil {
			os.Exit(3)
		}
		os.Exit(0)
	case "child":
		hold(16 << 20)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var sink []byte

func hold(n int) {
	sink = make([]byte, n)
	for i := range sink {
		sink[i] = 1
	}
}

// TestTracePeaks: the parent's peak is its own 64 MiB, not the child's
// nor one inflated by the fork; the child's is its 16 MiB, not the
// parent's memory it was forked from.
func TestTracePeaks(t *testing.T) {
	if raceDetector {
		t.Skip("the race detector's shadow memory inflates every peak; .ci/run also runs this package without it")
	}
	u, err := run([]string{os.Args[0]}, append(os.Environ(), "PLANS_TEST_ROLE=parent"), "", os.Stderr, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	mb := func(kb int64) float64 { return float64(kb) / 1024 }
	if u.Exit != 0 || u.Children != 1 {
		t.Fatalf("exit %d, %d children", u.Exit, u.Children)
	}
	if p := mb(u.RootHWM); p < 64 || p > 64+30 {
		t.Errorf("parent peak %.1f MiB, want 64 MiB and the runtime", p)
	}
	if c := mb(u.ChildHWM); c < 16 || c > 16+30 {
		t.Errorf("child peak %.1f MiB, want 16 MiB and the runtime", c)
	}
	if u.RootCPU <= 0 || u.ChildCPU <= 0 || u.Wall <= 0 {
		t.Errorf("times: %+v", u)
	}
}
