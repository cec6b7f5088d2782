package deploy

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary act as a misbehaving adapter (or a lock
// holder) when re-executed with ARENA_FAKE_ADAPTER set: real processes, real
// pipes, real exit codes.
func TestMain(m *testing.M) {
	if mode := os.Getenv("ARENA_FAKE_ADAPTER"); mode != "" {
		fakeAdapter(mode)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func fakeAdapter(mode string) {
	if mode == "exit" {
		fmt.Fprintln(os.Stderr, "cannot start: OMNIA_API_TOKEN is not set")
		os.Exit(2)
	}
	if procMode(mode) {
		return
	}
	if mode == "lock" {
		l := NewLocker(os.Getenv("ARENA_LOCK_DIR"))
		if err := l.Lock(); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // hold until told
		_ = l.Unlock()
		return
	}
	if mode == "promptkit-limit" {
		promptKitLimitAdapter()
		return
	}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var req RPCRequest
		_ = json.Unmarshal(sc.Bytes(), &req)
		id := string(req.ID)
		reply := func(result string) { fmt.Printf(`{"jsonrpc":"2.0","id":%s,"result":%s}`+"\n", id, result) }
		if mode == "hang-info" {
			time.Sleep(time.Hour)
		}
		if req.Method == MethodGetProviderInfo {
			reply(`{"name":"fake","version":"0.0.1"}`)
			continue
		}
		switch mode {
		case "crash":
			fmt.Fprintln(os.Stderr, "panic: runtime error: invalid memory address (token=hunter2)")
			fmt.Print(`{"jsonrpc":"2.0","id":` + id + `,"res`)
			os.Exit(3)
		case "hang":
			time.Sleep(time.Hour)
		case "garbage":
			fmt.Println("Starting adapter v1.0 ... ok")
		case "wrongid":
			fmt.Printf(`{"jsonrpc":"2.0","id":%d,"result":{}}`+"\n", 999)
		case "bigline":
			reply(`{"changes":[],"summary":"` + strings.Repeat("x", 20<<20) + `"}`)
		case "nomethod":
			fmt.Printf(`{"jsonrpc":"2.0","id":%s,"error":{"code":-32601,"message":"method not found: %s"}}`+"\n", id, req.Method)
		case "state-key":
			reply(`{"state":"legacy-state","events":[{"type":"progress","message":"one"},{"type":"complete","message":"two"}]}`)
		case "closeout":
			fmt.Fprintln(os.Stderr, "closing stdout, staying alive")
			os.Stdout.Close()
			time.Sleep(time.Hour)
		case "nullresult":
			// PromptKit's SDK answers a provider's nil result this way.
			reply("null")
		case "noresult":
			fmt.Printf(`{"jsonrpc":"2.0","id":%s}`+"\n", id)
		}
	}
}

// promptKitLimitAdapter reads requests exactly as PromptKit's adaptersdk
// serve loop does (bufio.Scanner, 64 KiB initial buffer, 10 MiB
// maxScanSize) and exits as it does on a longer line.
func promptKitLimitAdapter() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 0, 64*1024), 10*1024*1024)
	for sc.Scan() {
		var req RPCRequest
		_ = json.Unmarshal(sc.Bytes(), &req)
		switch req.Method {
		case MethodGetProviderInfo:
			fmt.Printf(`{"jsonrpc":"2.0","result":{"name":"pk","version":"1.3.5"},"id":%s}`+"\n", req.ID)
		default:
			fmt.Printf(`{"jsonrpc":"2.0","result":{"changes":[],"summary":"%d bytes"},"id":%s}`+"\n", len(sc.Bytes())+1, req.ID)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "adaptersdk: read error: %v\n", err)
		os.Exit(1)
	}
}
