package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/x509roots/fallback/bundle"

	"github.com/arena-deploy/arena-deploy-action/internal/localadapter"
)

// actionProcessEnv makes the test binary run the action (see TestMain).
const actionProcessEnv = "ARENA_TEST_RUN_ACTION"

// TestMain lets the test binary be the reference adapter when the demo
// links it under the adapter's name, as the real binary is.
func TestMain(m *testing.M) {
	if gen := os.Getenv("ARENA_COMPAT_SDK"); gen != "" {
		compatAdapter(gen) // compat_test.go: an adapter of one PromptKit SDK generation
		os.Exit(0)
	}
	if hangingAdapter() {
		os.Exit(0)
	}
	if os.Getenv("ARENA_BENCH_CHILD") != "" {
		// One run of the action as its own process, for memory benchmarks:
		// its peak (VmHWM) is reported on stderr's last line.
		code := realMain(context.Background(), os.Args[1:], os.Environ(), io.Discard, io.Discard)
		fmt.Fprintf(os.Stderr, "exit=%d vmhwm-kb=%d\n", code, vmHWM())
		os.Exit(0)
	}
	subprocess() // cancel_test.go: the action or a slow adapter, as real processes
	if os.Getenv("ARENA_TEST_ADAPTER") == "promptkit-limit" {
		promptKitShapedAdapter()
		os.Exit(0)
	}
	if os.Getenv("ARENA_HOSTILE_ADAPTER") == "1" {
		runHostileAdapter()
		os.Exit(0)
	}
	if filepath.Base(os.Args[0]) == localadapter.BinaryName {
		if err := localadapter.Serve(version); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	// The test binary is the action itself when a test starts it as a
	// separate process (racing runs).
	if os.Getenv(actionProcessEnv) == "1" {
		os.Exit(realMain(context.Background(), nil, os.Environ(), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// promptKitShapedAdapter reads requests as PromptKit's adaptersdk does
// (bufio.Scanner, 10 MiB maxScanSize, exit on a longer line) and declares
// no request limit, as PromptKit-based adapters don't.
func promptKitShapedAdapter() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 0, 64*1024), 10*1024*1024)
	for sc.Scan() {
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		_ = json.Unmarshal(sc.Bytes(), &req)
		result := map[string]string{
			"get_provider_info": `{"name":"local","version":"1.3.5"}`,
			"validate_config":   `{"valid":true}`,
			"status":            `{"status":"not_deployed"}`,
		}[req.Method]
		if result == "" {
			result = `{"changes":[],"summary":"planned"}`
		}
		fmt.Printf(`{"jsonrpc":"2.0","result":%s,"id":%s}`+"\n", result, req.ID)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "adaptersdk: read error: %v\n", err)
		os.Exit(1)
	}
}

// vmHWM is this process's peak resident memory in KiB, from
// /proc/self/status (a child's rusage would include its parent's memory at
// fork time).
func vmHWM() int {
	raw, _ := os.ReadFile("/proc/self/status")
	for _, line := range bytes.Split(raw, []byte("\n")) {
		if v, ok := strings.CutPrefix(string(line), "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}

// TestFallbackRoots: the action's fallback CA roots are the bundle's, the
// ones a FROM-scratch image has to trust GitHub's certificates (the public
// roots GitHub's chains end at among them).
func TestFallbackRoots(t *testing.T) {
	p := fallbackPool()
	//lint:ignore SA1019 a pool made here, not the system's: Subjects lists it
	subjects := p.Subjects()
	n := 0
	for range bundle.Roots() {
		n++
	}
	if len(subjects) != n || n < 100 {
		t.Fatalf("%d roots in the pool, %d in the bundle", len(subjects), n)
	}
	var names []string
	for _, s := range subjects {
		var name pkix.RDNSequence
		if _, err := asn1.Unmarshal(s, &name); err == nil {
			names = append(names, name.String())
		}
	}
	all := strings.Join(names, "\n")
	for _, want := range []string{"CN=USERTrust ECC Certification Authority", "CN=ISRG Root X1", "CN=DigiCert Global Root G2"} {
		if !strings.Contains(all, want) {
			t.Errorf("no %s among the fallback roots", want)
		}
	}
}
