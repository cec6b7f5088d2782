package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// hangingAdapter serves as an adapter that answers every call until the
// one named by ARENA_TEST_ADAPTER=hang:<method>, where it hangs; it
// appends its pid to ARENA_TEST_PIDFILE. It reports whether it ran.
func hangingAdapter() bool {
	method, ok := strings.CutPrefix(os.Getenv("ARENA_TEST_ADAPTER"), "hang:")
	if !ok {
		return false
	}
	if f, err := os.OpenFile(os.Getenv("ARENA_TEST_PIDFILE"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
		fmt.Fprintln(f, os.Getpid())
		f.Close()
	}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for sc.Scan() {
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		_ = json.Unmarshal(sc.Bytes(), &req)
		if req.Method == method {
			fmt.Fprintf(os.Stderr, "waiting for the provider in %s...\n", method)
			time.Sleep(time.Hour)
		}
		result := map[string]string{
			"get_provider_info": `{"name":"local","version":"1.0.0"}`,
			"validate_config":   `{"valid":true}`,
			"status":            `{"status":"not_deployed"}`,
			"plan":              `{"changes":[{"type":"prompt","name":"greeting","action":"CREATE"}],"summary":"1 to create"}`,
			"apply":             `{"adapter_state":"deployed","events":[]}`,
		}[req.Method]
		fmt.Printf(`{"jsonrpc":"2.0","result":%s,"id":%s}`+"\n", result, req.ID)
	}
	return true
}

// TestHungAdapterTimesOut: an adapter that hangs is killed after
// adapter-timeout, the run fails adapter-failed "timed out after …" within
// the timeout (plus a little), and the comment and state are handled as
// for any failure.
func TestHungAdapterTimesOut(t *testing.T) {
	const limit = 500 * time.Millisecond
	cases := []struct {
		name, hang string
		apply      bool
	}{
		{"hangs in get_provider_info", "get_provider_info", false},
		{"hangs in validate_config", "validate_config", false},
		{"hangs in plan", "plan", false},
		{"hangs in apply", "apply", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			exe, err := os.Executable()
			if err != nil {
				t.Fatal(err)
			}
			pids := t.TempDir() + "/pids"
			h.env["ARENA_TEST_PIDFILE"] = pids
			in := map[string]string{"adapter": exe, "adapter-timeout": "10m, " + tc.hang + "=" + limit.String()}
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
			if tc.apply {
				h.env["ARENA_TEST_ADAPTER"] = "hang:none"
				h.planPR(pr, in)
				h.merge(pr, "merge111", "Merge pull request #1")
			} else {
				h.pullRequest(pr)
			}
			h.env["ARENA_TEST_ADAPTER"] = "hang:" + tc.hang
			start := time.Now()
			res := h.run(in)
			took := time.Since(start)
			if res.code != 1 || res.outputs["failure-reason"] != "adapter-failed" {
				t.Fatalf("exit %d %v\n%s", res.code, res.outputs, res.log)
			}
			for _, want := range []string{tc.hang + ": ", "timed out after 500ms", "raise adapter-timeout", "waiting for the provider in " + tc.hang} {
				if !strings.Contains(res.log, want) {
					t.Errorf("log lacks %q:\n%s", want, res.log)
				}
			}
			// The timeout, the kill, and the failure report on the
			// emulator: seconds at most, not the hour the adapter sleeps.
			if took > limit+10*time.Second {
				t.Errorf("the run took %v with a %v timeout", took, limit)
			}
			for _, line := range strings.Fields(mustRead(t, pids)) {
				pid, _ := strconv.Atoi(line)
				if syscall.Kill(pid, 0) == nil && !zombie(pid) {
					_ = syscall.Kill(pid, syscall.SIGKILL)
					t.Errorf("adapter %d still runs", pid)
				}
			}
			comments := h.gh.Comments(pr.Number)
			if len(comments) != 1 || !strings.Contains(comments[0].Body, "timed out after 500ms") {
				t.Errorf("comment: %+v", comments)
			}
			if tc.apply {
				if h.anyState() {
					t.Error("a state was committed for an apply that timed out")
				}
			}
		})
	}
}

func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	st := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(st) > 0 && (st[0] == "Z" || st[0] == "X")
}

// TestNotAnAdapterFailsFast: a program that is not an adapter fails the
// handshake in seconds, with the default limits, saying it does not speak
// the adapter protocol: one that waits for input (/bin/sh reads the request
// as a command and waits for the next), one that prints something else
// (yes), one that exits (true).
func TestNotAnAdapterFailsFast(t *testing.T) {
	if deploy.DefaultTimeouts.For(deploy.MethodGetProviderInfo) > 15*time.Second || deploy.DefaultTimeouts.For(deploy.MethodValidateConfig) > time.Minute {
		t.Errorf("the handshake's default limits are not seconds: %s", deploy.DefaultTimeouts)
	}
	ws := deploytest.CopyExample(t)
	for _, tc := range []struct {
		adapter string
		want    []string
	}{
		{"/bin/sh", []string{"does not speak the adapter protocol", "timed out after 10s", "get_provider_info"}},
		{"yes", []string{"does not speak the adapter protocol", `not JSON-RPC`}},
		{"true", []string{"adapter exited before answering"}},
	} {
		t.Run(tc.adapter, func(t *testing.T) {
			path, err := exec.LookPath(tc.adapter)
			if err != nil {
				t.Skip(err)
			}
			// A bound on the whole run, far above the handshake's limit: the
			// run must end on the handshake's own timeout, not this one.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			t.Chdir(ws)
			var out, errb bytes.Buffer
			code := realMain(ctx, []string{"plan", "--adapter", path, "--json"}, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, &out, &errb)
			if code != exitFailure || !strings.Contains(out.String(), `"failure-reason": "adapter-failed"`) {
				t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("the error lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}
