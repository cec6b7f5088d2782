// Command plans measures whole plan runs of the action binary as GitHub
// runs them: each run its own process, planning a pull request against the
// GitHub emulator through the reference adapter (a link to the same binary,
// as in the image), for pack shapes and base commits users have:
//
//   - a first deploy: the base commit has no pack, so every prompt is new;
//   - an edit: the base commit holds the pack and the pull request edits
//     some prompts;
//   - no base commit at all (what the older benchmarks planned).
//
// Several binaries (this tree's and the previous release's) are measured
// in the same run, interleaved: each round runs every scenario with every
// binary, alternating which goes first, so a change of load hits them
// alike. Each process's peak memory (VmHWM) is read at its own exit, the
// action's apart from the adapter's. It prints Markdown tables; bench/run.sh
// runs it.
//
//	go run ./bench/plans -bin new=/tmp/a/arena-deploy -bin prev=/tmp/b/arena-deploy -rounds 5
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/packdiff/packdifftest"
)

// extraEnv is the -env flag.
var extraEnv envFlag

type envFlag []string

func (e *envFlag) String() string     { return strings.Join(*e, " ") }
func (e *envFlag) Set(s string) error { *e = append(*e, s); return nil }

// binaries is the -bin flag: name=path, in order.
type binaries [][2]string

func (b *binaries) String() string { return fmt.Sprint(*b) }
func (b *binaries) Set(s string) error {
	name, path, ok := strings.Cut(s, "=")
	if !ok || name == "" || path == "" {
		return errors.New("want name=path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	*b = append(*b, [2]string{name, abs})
	return nil
}

// shape is a pack shape with the scenarios run on it.
type shape struct {
	Name  string
	Shape packdifftest.Shape
}

var shapes = []shape{
	{"9 MB, 3,000 prompts", packdifftest.Shape{Bytes: 9 << 20, Prompts: 3000, Edits: 200}},
	{"9 MB, 50,000 prompts", packdifftest.Shape{Bytes: 9 << 20, Prompts: 50000, Edits: 200}},
	{"10 MB, 10 prompts of 1 MB", packdifftest.Shape{Bytes: 10 << 20, Prompts: 10, Edits: 10}},
}

// Scenarios: what the pull request's base commit holds.
const (
	FirstDeploy = "first deploy"
	Edited      = "edited"
	NoBase      = "no base"
)

var scenarios = []string{FirstDeploy, Edited, NoBase}

// sample is one measured run.
type sample struct {
	Shape, Scenario, Binary string
	Round                   int
	PackBytes               int
	Usage                   usage
	Load1                   float64
}

func main() {
	var bins binaries
	flag.Var(&bins, "bin", "name=path of an action binary to measure (repeat; the first is the one the targets are for)")
	rounds := flag.Int("rounds", 5, "measured rounds (each runs every scenario with every binary)")
	samplesOut := flag.String("samples", "", "write every sample as JSON lines to this file")
	only := flag.String("shapes", "", "run only the shapes whose name contains this")
	flag.Var(&extraEnv, "env", "K=V added to every run's environment (repeat): to try a runtime setting such as GOGC")
	serve := flag.String("serve", "", "set up, write a script per scenario and binary into this directory (its environment, then the binary), and serve the emulator until stdin closes: for profiling by hand")
	flag.Parse()
	if len(bins) == 0 {
		fmt.Fprintln(os.Stderr, "plans: give at least one -bin name=path")
		os.Exit(2)
	}
	samples, err := measure(bins, *rounds, *only, *serve)
	if err != nil {
		fmt.Fprintln(os.Stderr, "plans:", err)
		os.Exit(1)
	}
	if *serve != "" {
		return
	}
	if *samplesOut != "" {
		f, err := os.Create(*samplesOut)
		if err != nil {
			fmt.Fprintln(os.Stderr, "plans:", err)
			os.Exit(1)
		}
		enc := json.NewEncoder(f)
		for _, s := range samples {
			_ = enc.Encode(s)
		}
		_ = f.Close()
	}
	report(os.Stdout, bins, samples)
}

// setup is one scenario ready to run: its environment per binary.
type setup struct {
	shape, scenario string
	packBytes       int
	workspace       string
	env             map[string][]string // by binary
	step            *ghemu.Step
}

func measure(bins binaries, rounds int, only, serve string) ([]sample, error) {
	gh := ghemu.New(nil, ghemu.Options{NoValidation: true})
	defer gh.Close()
	tmp, err := os.MkdirTemp("", "arena-bench-plans-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	// Each binary's adapter is a link to it named as the reference adapter,
	// as in the image.
	pathOf := map[string]string{}
	for _, b := range bins {
		dir := filepath.Join(tmp, "bin-"+b[0])
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		if err := os.Symlink(b[1], filepath.Join(dir, "promptarena-deploy-local")); err != nil {
			return nil, err
		}
		pathOf[b[0]] = dir
	}

	const packFile = "support-bot.pack.json"
	gh.SetFile("main", "README.md", []byte("no pack here yet\n"))
	emptyBase := gh.Head("main")
	var setups []*setup
	for si, sh := range shapes {
		if only != "" && !strings.Contains(sh.Name, only) {
			continue
		}
		deployed, proposed := packdifftest.Make(sh.Shape)
		gh.SetFile("main", packFile, deployed)
		packBase := gh.Head("main")
		ws := filepath.Join(tmp, fmt.Sprintf("ws-%d", si))
		if err := os.CopyFS(ws, os.DirFS(filepath.Join(deploytest.RepoRoot(), "testdata", "example"))); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(ws, packFile), proposed, 0o644); err != nil {
			return nil, err
		}
		runner := gh.NewRunner(ws, filepath.Join(tmp, fmt.Sprintf("runner-%d", si)))
		if err := os.MkdirAll(filepath.Join(tmp, fmt.Sprintf("runner-%d", si)), 0o755); err != nil {
			return nil, err
		}
		runner.Env["HOME"] = filepath.Join(tmp, "home")
		for ci, sc := range scenarios {
			base := map[string]string{FirstDeploy: emptyBase, Edited: packBase, NoBase: ""}[sc]
			pr := gh.AddPull(ghemu.Pull{HeadSHA: fmt.Sprintf("head%02d%02d", si, ci), BaseSHA: base})
			if _, err := runner.PullRequest(pr); err != nil {
				return nil, err
			}
			s := &setup{shape: sh.Name, scenario: sc, packBytes: len(proposed), workspace: ws, env: map[string][]string{}}
			for _, b := range bins {
				env, step, err := runner.Environ(nil)
				if err != nil {
					return nil, err
				}
				s.env[b[0]] = append(append(env, "PATH="+pathOf[b[0]]), extraEnv...)
				s.step = step
			}
			setups = append(setups, s)
		}
	}

	if serve != "" {
		return nil, serveScripts(serve, bins, setups)
	}
	logs := filepath.Join(tmp, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return nil, err
	}
	one := func(s *setup, bin [2]string) (usage, error) {
		out, err := os.Create(filepath.Join(logs, "out"))
		if err != nil {
			return usage{}, err
		}
		defer out.Close()
		u, err := run([]string{bin[1]}, s.env[bin[0]], s.workspace, out, out)
		gh.ResetLog()
		if err == nil && u.Exit != 0 {
			log, _ := os.ReadFile(out.Name())
			err = fmt.Errorf("%s, %s, %s: exit %d\n%s", bin[0], s.shape, s.scenario, u.Exit, log)
		}
		return u, err
	}
	// A first run of each creates the comment and the artifact every
	// measured run then replaces, as a re-run of a job does.
	for _, s := range setups {
		for _, b := range bins {
			if _, err := one(s, b); err != nil {
				return nil, err
			}
		}
	}
	var samples []sample
	for r := range rounds {
		for _, s := range setups {
			order := append(binaries(nil), bins...)
			if r%2 == 1 { // A B, then B A: neither always runs first
				for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
					order[i], order[j] = order[j], order[i]
				}
			}
			for _, b := range order {
				u, err := one(s, b)
				if err != nil {
					return nil, err
				}
				samples = append(samples, sample{Shape: s.shape, Scenario: s.scenario, Binary: b[0], Round: r, PackBytes: s.packBytes, Usage: u, Load1: load1()})
			}
		}
	}
	return samples, nil
}

func load1() float64 {
	b, _ := os.ReadFile("/proc/loadavg")
	var l float64
	fmt.Sscan(string(b), &l)
	return l
}

// stat is min, median and max of a metric over the rounds.
type stat struct{ min, med, max float64 }

func stats(xs []float64) stat {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return stat{s[0], med, s[n-1]}
}

func (s stat) String() string {
	return fmt.Sprintf("%s (%s–%s)", num(s.med), num(s.min), num(s.max))
}

func num(x float64) string {
	if x >= 100 {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.1f", x)
}

type key struct{ shape, scenario, binary string }

func report(w *os.File, bins binaries, samples []sample) {
	by := map[key][]sample{}
	var keys []key
	for _, s := range samples {
		k := key{s.Shape, s.Scenario, s.Binary}
		if _, ok := by[k]; !ok {
			keys = append(keys, k)
		}
		by[k] = append(by[k], s)
	}
	metric := func(k key, f func(sample) float64) stat {
		var xs []float64
		for _, s := range by[k] {
			xs = append(xs, f(s))
		}
		if len(xs) == 0 {
			return stat{}
		}
		return stats(xs)
	}
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	mb := func(kb int64) float64 { return float64(kb) / 1024 }
	wall := func(s sample) float64 { return ms(s.Usage.Wall) }
	cpu := func(s sample) float64 { return ms(s.Usage.RootCPU + s.Usage.ChildCPU) }
	actionCPU := func(s sample) float64 { return ms(s.Usage.RootCPU) }
	actionPeak := func(s sample) float64 { return mb(s.Usage.RootHWM) }
	adapterPeak := func(s sample) float64 { return mb(s.Usage.ChildHWM) }
	ratio := func(f func(sample) float64) func(sample) float64 {
		return func(s sample) float64 { return f(s) * (1 << 20) / float64(s.PackBytes) }
	}

	fmt.Fprintln(w, "| pack | base | binary | wall ms | CPU ms, action + adapter | action CPU ms | action peak MB | ÷ pack | adapter peak MB | ÷ pack |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	for _, k := range keys {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %.1f× | %s | %.1f× |\n", k.shape, k.scenario, k.binary,
			metric(k, wall), metric(k, cpu), metric(k, actionCPU), metric(k, actionPeak), metric(k, ratio(actionPeak)).med,
			metric(k, adapterPeak), metric(k, ratio(adapterPeak)).med)
	}
	var loads []float64
	for _, s := range samples {
		loads = append(loads, s.Load1)
	}
	if len(loads) > 0 {
		l := stats(loads)
		fmt.Fprintf(w, "\n%d runs; each cell is the median (min–max) of %d interleaved rounds; load average (1 min) during the runs %.1f–%.1f, median %.1f.\n",
			len(samples), len(by[keys[0]]), l.min, l.max, l.med)
	}

	// The targets, for each binary.
	fmt.Fprintln(w)
	head := "| target | goal |"
	rule := "|---|---|"
	for _, b := range bins {
		head += " " + b[0] + " |"
		rule += "---|"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, rule)
	const s3k, s50k = "9 MB, 3,000 prompts", "9 MB, 50,000 prompts"
	row := func(name, goal string, f func(bin string) string) {
		line := "| " + name + " | " + goal + " |"
		for _, b := range bins {
			line += " " + f(b[0]) + " |"
		}
		fmt.Fprintln(w, line)
	}
	med := func(sh, sc, bin string, f func(sample) float64) float64 { return metric(key{sh, sc, bin}, f).med }
	row("action peak ÷ pack, first deploy / edited (3,000 prompts)", "≤ 4×", func(b string) string {
		return fmt.Sprintf("%.1f× / %.1f×", med(s3k, FirstDeploy, b, ratio(actionPeak)), med(s3k, Edited, b, ratio(actionPeak)))
	})
	row("plan CPU (action + adapter), first deploy", "≤ 250 ms", func(b string) string {
		return num(med(s3k, FirstDeploy, b, cpu)) + " ms"
	})
	row("plan CPU, no base", "≤ 180 ms", func(b string) string { return num(med(s3k, NoBase, b, cpu)) + " ms" })
	row("CPU at 50,000 prompts ÷ at 3,000, same bytes: no base / first deploy / edited", "≤ 1.5×", func(b string) string {
		var parts []string
		for _, sc := range []string{NoBase, FirstDeploy, Edited} {
			parts = append(parts, fmt.Sprintf("%.2f×", med(s50k, sc, b, cpu)/med(s3k, sc, b, cpu)))
		}
		return strings.Join(parts, " / ")
	})
	row("adapter peak ÷ pack, the largest of the three bases: 3,000 prompts / 50,000 / 10 of 1 MB", "≤ 3×", func(b string) string {
		var parts []string
		for _, sh := range shapes {
			worst := 0.0
			for _, k := range keys {
				if k.binary == b && k.shape == sh.Name {
					worst = max(worst, metric(k, ratio(adapterPeak)).med)
				}
			}
			parts = append(parts, fmt.Sprintf("%.1f×", worst))
		}
		return strings.Join(parts, " / ")
	})
}

// serveScripts writes one script per scenario and binary that runs it
// against this process's emulator with "$@" before the binary (a profiler,
// a timer), then serves until stdin closes.
func serveScripts(dir string, bins binaries, setups []*setup) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i, s := range setups {
		for _, b := range bins {
			var sc strings.Builder
			sc.WriteString("#!/bin/sh\n# " + s.shape + ", " + s.scenario + ", " + b[0] + "\ncd '" + s.workspace + "' || exit 1\nexec env -i")
			for _, kv := range s.env[b[0]] {
				sc.WriteString(" '" + strings.ReplaceAll(kv, "'", `'\''`) + "'")
			}
			sc.WriteString(` "$@" '` + b[1] + "'\n")
			name := fmt.Sprintf("%d-%s-%s.sh", i, strings.ReplaceAll(s.scenario, " ", "-"), b[0])
			if err := os.WriteFile(filepath.Join(dir, name), []byte(sc.String()), 0o755); err != nil {
				return err
			}
		}
	}
	fmt.Fprintln(os.Stderr, "plans: scripts in", dir, "; close stdin to stop")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}
