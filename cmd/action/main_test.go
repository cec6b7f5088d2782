package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/localadapter"
)

// TestMain lets the test binary be the reference adapter when the demo
// links it under the adapter's name, as the real binary is.
func TestMain(m *testing.M) {
	if hangingAdapter() {
		os.Exit(0)
	}
	if os.Getenv("ARENA_TEST_ADAPTER") == "promptkit-limit" {
		promptKitShapedAdapter()
		os.Exit(0)
	}
	if filepath.Base(os.Args[0]) == localadapter.BinaryName {
		if err := localadapter.Serve(version); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
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
