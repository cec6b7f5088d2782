package deploy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// procMode runs the test binary as one of the processes of the process
// tests; it reports whether mode was one of them.
func procMode(mode string) bool {
	switch mode {
	case "sleep": // a process an adapter started
		time.Sleep(time.Hour)
	case "hang-noread": // hangs before reading its request
		time.Sleep(time.Hour)
	case "hang-child": // starts a child in its group, then hangs in plan
		child := exec.Command(os.Args[0])
		child.Env = append(os.Environ(), "ARENA_FAKE_ADAPTER=sleep")
		if err := child.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "child pid %d\n", child.Process.Pid)
		fakeAdapter("hang")
	case "action": // the action: starts a hanging adapter, says its pid, waits in plan
		c, err := NewAdapterClient(context.Background(), os.Args[0], WithEnv(append(os.Environ(), "ARENA_FAKE_ADAPTER=hang")))
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		if _, err := c.GetProviderInfo(context.Background()); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Printf("adapter pid %d\n", c.cmd.Process.Pid)
		_, _ = c.Plan(context.Background(), planReq)
		os.Exit(1)
	default:
		return false
	}
	return true
}

// alive reports whether pid is a process that has not exited (a zombie
// waiting for its parent counts as exited).
func alive(pid int) bool {
	if runtime.GOOS == "linux" {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return false
		}
		// pid (comm) state ...: comm may hold spaces, the state follows the last ')'.
		s := string(b)
		st := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		return len(st) > 0 && st[0] != "Z" && st[0] != "X"
	}
	return syscall.Kill(pid, 0) == nil
}

// gone waits up to 5 s for pid to exit.
func gone(pid int) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !alive(pid) {
			return true
		}
	}
	return false
}

// TestCallTimeout: an adapter that hangs, in any call and however, is
// killed after the call's timeout, and the error says so.
func TestCallTimeout(t *testing.T) {
	t.Parallel()
	const limit = 300 * time.Millisecond
	big := &PlanRequest{PackJSON: `{"id":"p","x":"` + strings.Repeat("a", 4<<20) + `"}`, DeployConfig: `{}`}
	cases := []struct {
		name, mode, method string
		call               func(*AdapterClient) error
	}{
		{"hangs in get_provider_info", "hang-info", MethodGetProviderInfo, func(c *AdapterClient) error {
			_, err := c.GetProviderInfo(context.Background())
			return err
		}},
		{"hangs in plan", "hang", MethodPlan, func(c *AdapterClient) error {
			if _, err := c.GetProviderInfo(context.Background()); err != nil {
				return fmt.Errorf("provider info: %w", err)
			}
			_, err := c.Plan(context.Background(), planReq)
			return err
		}},
		{"never reads a 4 MB plan request", "hang-noread", MethodPlan, func(c *AdapterClient) error {
			_, err := c.Plan(context.Background(), big)
			return err
		}},
		{"hangs in apply", "hang", MethodApply, func(c *AdapterClient) error {
			_, err := c.Apply(context.Background(), planReq, nil)
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewAdapterClient(context.Background(), os.Args[0],
				WithEnv(append(os.Environ(), "ARENA_FAKE_ADAPTER="+tc.mode)), WithTimeouts(Timeouts{tc.method: limit}))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			err = tc.call(c)
			took := time.Since(start)
			if !errors.Is(err, ErrTimedOut) || !strings.Contains(err.Error(), tc.method+": ") || !strings.Contains(err.Error(), "timed out after 300ms") {
				t.Fatalf("got %v", err)
			}
			var ce *CallError
			if !errors.As(err, &ce) || ce.Method != tc.method {
				t.Fatalf("not a CallError of %s: %v", tc.method, err)
			}
			// The timeout, plus the kill and reap: well under a second;
			// 3 s leaves room for a loaded machine.
			if took < limit || took > limit+3*time.Second {
				t.Fatalf("gave up after %v, timeout %v", took, limit)
			}
			if alive(c.cmd.Process.Pid) {
				t.Fatal("the adapter still runs")
			}
			if _, err := c.GetProviderInfo(context.Background()); err == nil {
				t.Fatal("a killed adapter answered")
			}
		})
	}
}

// TestTimeoutKillsProcessGroup: what the adapter started dies with it.
func TestTimeoutKillsProcessGroup(t *testing.T) {
	t.Parallel()
	stderr := &syncWriter{}
	c, err := NewAdapterClient(context.Background(), os.Args[0], WithStderr(stderr),
		WithEnv(append(os.Environ(), "ARENA_FAKE_ADAPTER=hang-child")), WithTimeouts(Timeouts{MethodPlan: 500 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.GetProviderInfo(context.Background()); err != nil {
		t.Fatal(err)
	}
	var child int
	for deadline := time.Now().Add(5 * time.Second); child == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		_, _ = fmt.Sscanf(stderr.String(), "child pid %d", &child)
	}
	if child == 0 || !alive(child) {
		t.Fatalf("no live child: %q", stderr.String())
	}
	if _, err := c.Plan(context.Background(), planReq); !errors.Is(err, ErrTimedOut) {
		t.Fatalf("got %v", err)
	}
	if !gone(child) {
		_ = syscall.Kill(child, syscall.SIGKILL)
		t.Fatal("the adapter's child outlived the timeout")
	}
}

// TestAdapterDiesWithTheAction: kill -9 of the action (a real process,
// mid-plan) does not leave its adapter running.
func TestAdapterDiesWithTheAction(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Pdeathsig is Linux only")
	}
	t.Parallel()
	action := exec.Command(os.Args[0])
	action.Env = append(os.Environ(), "ARENA_FAKE_ADAPTER=action")
	out, err := action.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := action.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	var pid int
	if _, serr := fmt.Sscanf(line, "adapter pid %d", &pid); err != nil || serr != nil {
		_ = action.Process.Kill()
		t.Fatalf("action said %q (%v)", line, err)
	}
	if !alive(pid) {
		t.Fatal("the adapter is not running")
	}
	time.Sleep(100 * time.Millisecond) // the action is waiting for plan
	if err := action.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = action.Wait()
	if !gone(pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Fatal("the adapter outlived the action killed with SIGKILL")
	}
}

type syncWriter struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestParseTimeouts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, want, err string
	}{
		{"", "apply=30m0s,destroy=30m0s,get_provider_info=10s,import=5m0s,plan=30m0s,status=5m0s,validate_config=30s", ""},
		{"10m", "apply=10m0s,destroy=10m0s,get_provider_info=10m0s,import=10m0s,plan=10m0s,status=10m0s,validate_config=10m0s", ""},
		{"plan=45m, apply=1h", "apply=1h0m0s,destroy=30m0s,get_provider_info=10s,import=5m0s,plan=45m0s,status=5m0s,validate_config=30s", ""},
		{"apply=1h,90s", "apply=1h0m0s,destroy=1m30s,get_provider_info=1m30s,import=1m30s,plan=1m30s,status=1m30s,validate_config=1m30s", ""},
		{"5", "", `"5" is not a positive duration`},
		{"0s", "", `"0s" is not a positive duration`},
		{"deploy=1h", "", `"deploy" is not an adapter call; use one of apply, destroy, get_provider_info`},
	}
	for _, tc := range cases {
		got, err := ParseTimeouts(tc.in)
		switch {
		case tc.err != "":
			// The caller names the input (adapter-timeout, or the CLI's flag).
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case got.String() != tc.want:
			t.Errorf("%q = %s, want %s", tc.in, got, tc.want)
		}
	}
	if Timeouts(nil).For(MethodPlan) != 30*time.Minute {
		t.Error("nil Timeouts are not the defaults")
	}
}
