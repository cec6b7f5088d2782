package adaptersdk

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

// TestMain lets the test binary be a no-op adapter on this SDK, so a
// benchmark can time a fresh process doing one plan: the client and the SDK
// alone, with no provider work.
func TestMain(m *testing.M) {
	if mode := os.Getenv("ARENA_SDK_NOOP"); mode != "" {
		stdlibOnly = mode == "stdlib"
		if err := Serve(noop{}); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// noop answers every call at once. It reports its own peak memory: VmHWM
// in the provider info (idle, after start-up) and after decoding the plan.
type noop struct{ fake }

func (noop) GetProviderInfo(context.Context) (*deploy.ProviderInfo, error) {
	return &deploy.ProviderInfo{Name: "noop", Version: strconv.Itoa(vmHWM())}, nil
}

func (noop) Plan(_ context.Context, r *deploy.PlanRequest) (*deploy.PlanResponse, error) {
	return &deploy.PlanResponse{Summary: strconv.Itoa(vmHWM()) + " " + strconv.Itoa(len(r.PackJSON))}, nil
}

// vmHWM is this process's peak resident memory in KiB (Linux), read from
// /proc/self/status. Unlike a child's rusage, it is not inflated by the
// parent's memory at fork time.
func vmHWM() int {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}

// BenchmarkFreshPlan9MB is one plan with a 9 MB pack on a fresh adapter
// process, as production runs it (each run starts its adapter once): start,
// provider info, plan, close. adapter-extra-MB is the adapter's peak memory
// after the plan minus its peak when idle. "stdlib" is the same SDK with
// every request decoded by encoding/json, measured in the same run.
func BenchmarkFreshPlan9MB(b *testing.B) {
	pack := deploytest.BigPack(9 << 20)
	for _, mode := range []string{"jsonwire", "stdlib"} {
		b.Run(mode, func(b *testing.B) {
			req := &deploy.PlanRequest{PackJSON: pack, DeployConfig: `{}`, Environment: "production"}
			b.SetBytes(int64(len(pack)))
			extra := 0
			for i := 0; i < b.N; i++ {
				ctx := context.Background()
				c, err := deploy.NewAdapterClient(ctx, os.Args[0], deploy.WithEnv(append(os.Environ(), "ARENA_SDK_NOOP="+mode)))
				if err != nil {
					b.Fatal(err)
				}
				info, err := c.GetProviderInfo(ctx)
				if err != nil {
					b.Fatal(err)
				}
				resp, err := c.Plan(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				_ = c.Close()
				idle, _ := strconv.Atoi(info.Version)
				var peak, got int
				fmt.Sscan(resp.Summary, &peak, &got)
				if got != len(pack) {
					b.Fatalf("adapter got %d bytes of pack, want %d", got, len(pack))
				}
				extra += peak - idle
			}
			b.ReportMetric(float64(extra)/float64(b.N)/1024, "adapter-extra-MB")
		})
	}
}
