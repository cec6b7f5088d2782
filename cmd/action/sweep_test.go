package main

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

// The sweep: every call a plan and an apply make to GitHub (found in a
// clean run's request log, not listed by hand) meets every kind of flaky
// answer, once and for the rest of the run, on each state store; no run
// may end wrong. ARENA_SWEEP=full runs every case; without it, a
// deterministic sample that still meets every call site and every kind.

// sweepStore is a state store the sweep runs on, or a world on one.
type sweepStore struct {
	name string
	in   map[string]string
	// of is the store a world runs on (name, for a store itself); a world
	// sweeps only the call sites its store's own journey does not make.
	of string
	// rerunWrote: production's state was written by a re-run (its first
	// attempt's witness names used up), so its witness is under a name of
	// that attempt's, which reads find among that run's artifacts.
	rerunWrote bool
}

var sweepStores = []sweepStore{
	{name: "state branch", in: map[string]string{}},
	{name: "artifact", in: map[string]string{"state-backend": "artifact"}},
	{name: "committed file", in: map[string]string{"state-branch": ""}},
	{name: "state branch, written by a re-run", in: map[string]string{}, of: "state branch", rerunWrote: true},
	{name: "committed file, written by a re-run", in: map[string]string{"state-branch": ""}, of: "committed file", rerunWrote: true},
}

// kind is the store a world runs on.
func (s sweepStore) kind() string {
	if s.of != "" {
		return s.of
	}
	return s.name
}

// sweepKinds are the flaky answers GitHub gives.
var sweepKinds = []struct {
	name  string
	fault func(h *harness) ghemu.Fault
}{
	{"500", func(*harness) ghemu.Fault { return ghemu.Fault{Status: 500} }},
	{"502", func(*harness) ghemu.Fault { return ghemu.Fault{Status: 502} }},
	{"503", func(*harness) ghemu.Fault { return ghemu.Fault{Status: 503, RetryAfter: "2"} }},
	{"429", func(*harness) ghemu.Fault { return ghemu.Fault{Status: 429, RetryAfter: "1"} }},
	{"secondary rate limit", func(*harness) ghemu.Fault { return ghemu.Fault{Status: 403, Secondary: true, RetryAfter: "5"} }},
	{"primary rate limit", func(h *harness) ghemu.Fault {
		return ghemu.Fault{Status: 403, Primary: true, ResetAt: h.gh.Now().Add(30 * time.Second)}
	}},
	{"slow", func(*harness) ghemu.Fault { return ghemu.Fault{Delay: 20 * time.Millisecond} }},
	{"reset", func(*harness) ghemu.Fault { return ghemu.Fault{Reset: true} }},
	{"cut off", func(*harness) ghemu.Fault { return ghemu.Fault{Truncate: true} }},
	{"lost answer", func(*harness) ghemu.Fault { return ghemu.Fault{DropAnswer: true} }},
	{"garbled", func(*harness) ghemu.Fault { return ghemu.Fault{Garble: true} }},
}

// callSite is the n-th request (from 0) to route in a phase.
type callSite struct {
	phase, route string
	n            int
}

func (c callSite) String() string { return fmt.Sprintf("%s %s #%d", c.phase, c.route, c.n+1) }

// sweepCase is one call site, one kind, once or for the rest of the run.
type sweepCase struct {
	site       callSite
	kind       int
	persistent bool
}

func (c sweepCase) String() string {
	mode := "once"
	if c.persistent {
		mode = "lasting"
	}
	return fmt.Sprintf("%s: %s %s", c.site, sweepKinds[c.kind].name, mode)
}

// sweepWorld runs the journey the sweep faults: production deployed by
// pull request #1; pull request #2 changes a prompt, is planned (phase
// "plan"), merged and applied (phase "apply"). fault, if set, is injected
// at the start of its phase and cleared at its end.
type sweepWorld struct {
	h     *harness
	store sweepStore
	pr    *ghemu.Pull
	// planRun is the pull request's plan run; plan the outcome of it.
	planRun *ghemu.Run
	plan    result
	// newPrompt is pull request #2's escalation prompt as deployed.
	newPrompt, oldPrompt string
	// requests are the calls of the last phase's first run: its call
	// sites (not its re-run's, nor the next run's).
	requests []ghemu.LoggedRequest
}

func newSweepWorld(t *testing.T, store sweepStore) *sweepWorld {
	h := newIsolated(t)
	pr1 := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.pullRequest(pr1)
	if r := h.run(store.in); r.code != 0 {
		t.Fatalf("setup plan: %v\n%s", r.outputs, r.log)
	}
	setup := h.merge(pr1, "merge111", "Merge pull request #1")
	if store.rerunWrote {
		// Every create answered garbled: the witness's names of the first
		// attempt are used up, and its re-run writes the state.
		h.gh.Inject("POST "+ghemu.TwirpPrefix+"CreateArtifact", ghemu.Fault{Garble: true, Times: 1 << 20})
		r := h.run(store.in)
		h.gh.ClearFaults()
		if r.code == 0 {
			t.Fatalf("setup apply wrote the state with every create answer garbled:\n%s", r.log)
		}
		h.runner.Rerun(setup)
	}
	if r := h.run(store.in); r.code != 0 {
		t.Fatalf("setup apply: %v\n%s", r.outputs, r.log)
	}
	h.checkout()
	w := &sweepWorld{h: h, store: store}
	w.oldPrompt = w.deployedPrompt()
	pack := filepath.Join(h.workspace, "support-bot.pack.json")
	h.writeFile("support-bot.pack.json", strings.Replace(mustRead(t, pack), "five bullet points", "three bullet points", 1))
	w.newPrompt = deployedPrompt(t, pack, "escalation")
	w.pr = h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
	return w
}

func (w *sweepWorld) deployedPrompt() string {
	b, _ := os.ReadFile(filepath.Join(w.h.workspace, ".deployed/default/prompts/escalation.json"))
	return string(b)
}

// record is the stored state's record (nil if none can be read).
func (w *sweepWorld) record() *state.Record {
	h := w.h
	var raw []byte
	switch w.store.kind() {
	case "state branch":
		raw, _ = h.gh.GetFile(stateBranch, target.New(".", "arena.yaml", "default").StateDir()+"/record.json")
	case "committed file":
		raw, _ = h.gh.GetFile("main", ".promptarena/deploy.state.record.json")
	case "artifact":
		// The newest state artifact of a push run, under the state's name
		// or its alternate (never a state kept aside).
		name := target.New(".", "arena.yaml", "default").StateArtifact()
		push := map[int64]bool{}
		for _, r := range h.gh.Runs() {
			push[r.ID] = r.Event == "push"
		}
		var newest int64
		for _, a := range h.gh.Artifacts() {
			if (a.Name == name || a.Name == name+"-2") && a.Finalized && !a.Deleted && push[a.RunID] && a.ID > newest {
				newest = a.ID
			}
		}
		if newest != 0 {
			raw = h.artifactFiles(newest)[state.RecordFile]
		}
	}
	var rec state.Record
	if json.Unmarshal(raw, &rec) != nil {
		return nil
	}
	return &rec
}

// phase runs one phase with c's fault, if any, then checks the outcome and,
// when the run failed, that its re-run (the outage over) ends right too. It
// returns what ended wrong, and what the re-run could not recover.
func (w *sweepWorld) phase(name string, c *sweepCase) (wrong, unrecovered []string) {
	h := w.h
	bad := func(format string, args ...any) { wrong = append(wrong, fmt.Sprintf(format, args...)) }
	var run *ghemu.Run
	if name == "plan" {
		run = h.pullRequest(w.pr)
		w.planRun = run
	} else {
		run = h.merge(w.pr, "merge222", "Merge pull request #2")
	}
	h.gh.ResetLog()
	if c != nil && c.site.phase == name {
		f := sweepKinds[c.kind].fault(h)
		f.Skip, f.Times = c.site.n, 1
		if c.persistent {
			f.Times = 1 << 20
		}
		h.gh.Inject(c.site.route, f)
	}
	r := h.run(w.store.in)
	h.gh.ClearFaults()
	w.requests = h.gh.Requests()
	check := func(r result) {
		if r.outputs["failure-reason"] == "internal-error" || strings.Contains(r.log, "This is a bug") {
			bad("internal-error for GitHub's fault: %s", lastError(r.log))
		}
		if r.code != 0 && r.outputs["failure-reason"] == "" {
			bad("failed without a failure-reason")
		}
		if name == "apply" {
			w.applyOutcome(r, bad)
		}
	}
	check(r)
	if r.code != 0 {
		h.runner.Rerun(run)
		again := h.run(w.store.in)
		check(again)
		if again.code != 0 {
			unrecovered = append(unrecovered, fmt.Sprintf("the %s's re-run after the outage failed: %s %s", name, again.outputs["failure-reason"], lastError(again.log)))
		}
		r = again
	}
	if name == "plan" {
		w.plan = r
		return wrong, unrecovered
	}
	if r.code == 0 && r.outputs["plan-id"] != w.plan.outputs["plan-id"] {
		bad("applied plan %s, not the reviewed plan %s", short(r.outputs["plan-id"]), short(w.plan.outputs["plan-id"]))
	}
	if r.code == 0 {
		w.nextRun(bad)
	}
	return wrong, unrecovered
}

// nextRun checks that the state a green apply left is one the next run
// uses: a status run (it loads the state and proves it by its witness, as
// every later apply does) finds pull request #2 deployed, without drift.
// A state written without a witness that proves it, or next to a witness
// naming a record that never landed, stops every later run.
func (w *sweepWorld) nextRun(bad func(string, ...any)) {
	h := w.h
	h.must(h.runner.Dispatch("merge222"))
	in := map[string]string{"command": "status"}
	for k, v := range w.store.in {
		in[k] = v
	}
	r := h.run(in)
	if r.code != 0 || r.outputs["status"] != "deployed" || r.outputs["drift"] != "0" {
		bad("the next run cannot use the state the apply left: exit %d, %s, status %q, drift %q: %s",
			r.code, r.outputs["failure-reason"], r.outputs["status"], r.outputs["drift"], lastError(r.log))
	}
}

// applyOutcome checks an apply's end: never green without pull request
// #2 deployed and its state written; never failed when it did both; never
// "could not be written" when it was; never deployed without saying so
// and that the state was not written.
func (w *sweepWorld) applyOutcome(r result, bad func(string, ...any)) {
	deployed := w.deployedPrompt() == w.newPrompt
	rec := w.record()
	written := rec != nil && rec.PlanID != "" && rec.PlanID == r.outputs["plan-id"] && rec.Commit == "merge222"
	couldNot := strings.Contains(r.log, "could not be written")
	switch {
	case r.code == 0 && !deployed:
		bad("green, but pull request #2 is not deployed")
	case r.code == 0 && !written:
		bad("green, but the state was not written (record %+v)", rec)
	case r.code != 0 && written && couldNot:
		bad("said the state could not be written, but it was: %s", lastError(r.log))
	case r.code != 0 && written:
		bad("failed (%s) although it deployed and wrote the state: %s", r.outputs["failure-reason"], lastError(r.log))
	case r.code != 0 && deployed && !written && !couldNot:
		bad("deployed, state not written, and the run does not say so (%s): %s", r.outputs["failure-reason"], lastError(r.log))
	case r.code != 0 && deployed && r.outputs["applied"] != "true":
		bad("deployed, but applied is %q", r.outputs["applied"])
	}
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// lastError is the run's last ::error:: line, for the report.
func lastError(log string) string {
	i := strings.LastIndex(log, "::error::")
	if i < 0 {
		return ""
	}
	line, _, _ := strings.Cut(log[i+len("::error::"):], "\n")
	if len(line) > 300 {
		line = line[:300] + "…"
	}
	return line
}

// sites runs the journey clean and lists its call sites.
func sweepSites(t *testing.T, store sweepStore) []callSite {
	w := newSweepWorld(t, store)
	var sites []callSite
	for _, phase := range []string{"plan", "apply"} {
		if wrong, unrecovered := w.phase(phase, nil); len(wrong)+len(unrecovered) > 0 {
			t.Fatalf("clean %s: %v %v", phase, wrong, unrecovered)
		}
		seen := map[string]int{}
		for _, r := range w.requests {
			if r.Route == "" {
				continue
			}
			sites = append(sites, callSite{phase: phase, route: r.Route, n: seen[r.Route]})
			seen[r.Route]++
		}
	}
	return sites
}

// sample picks the cases run without ARENA_SWEEP=full: every call site
// with a kind of its own (rotating, so every kind is met) once, and
// lasting; deterministic; and the cases the full sweep once found ending
// wrong (sweepFound).
func sample(store string, sites []callSite) []sweepCase {
	var out []sweepCase
	for i, s := range sites {
		h := fnv.New32a()
		fmt.Fprint(h, store, s)
		k := (i + int(h.Sum32()%3)) % len(sweepKinds)
		out = append(out, sweepCase{site: s, kind: k}, sweepCase{site: s, kind: (k + 5) % len(sweepKinds), persistent: true})
	}
	for _, f := range sweepFound {
		if f.store != "" && f.store != store {
			continue
		}
		for _, s := range sites {
			if s.phase == f.phase && s.route == f.route && s.n == f.n {
				for k, kind := range sweepKinds {
					if kind.name == f.kind {
						out = append(out, sweepCase{site: s, kind: k, persistent: f.persistent})
					}
				}
			}
		}
	}
	return out
}

// sweepFound are cases the full sweep found ending wrong, fixed since:
// always run. (store "" is every store.)
var sweepFound = []struct {
	store, phase, route string
	n                   int
	kind                string
	persistent          bool
}{
	// Every name used up: a lasting refusal of blocks or of the finalize,
	// or lasting garbled create answers (the retry's "already exists"
	// arrives), took the next name, and the next, and left the re-run none.
	{"", "plan", "POST " + ghemu.TwirpPrefix + "CreateArtifact", 0, "garbled", true},
	{"", "plan", "POST " + ghemu.TwirpPrefix + "FinalizeArtifact", 0, "500", true},
	{"", "plan", "PUT /_blob/upload/{key}", 1, "reset", true},
	{"artifact", "apply", "POST " + ghemu.TwirpPrefix + "FinalizeArtifact", 0, "500", true},
	// go-github asks for the artifact's download URL on its transport
	// directly: no answer was internal-error.
	{"artifact", "apply", "GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}", 1, "reset", true},
	{"artifact", "plan", "GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}", 0, "cut off", true},
	// Storage's refusal was internal-error.
	{"artifact", "apply", "GET /_blob/download/{key}", 1, "429", true},
	// A rate limit met by the comment's edit refused the state's calls
	// on the shared client.
	{"artifact", "apply", "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", 0, "secondary rate limit", true},
	// Lasting garbled create answers used both of the state artifact's
	// names up (the retry's "already exists" came garbled too, and the
	// second name went the same way): its re-run had none left.
	{"artifact", "apply", "POST " + ghemu.TwirpPrefix + "CreateArtifact", 0, "garbled", true},
}

// TestEveryFlakyAnswerEndsRight: the sweep (see above). A run never ends
// green having not deployed or not written the state; never fails when it
// did both; never says the state could not be written when it was; never
// calls GitHub's failure internal-error; and once the outage is over, its
// re-run ends right.
func TestEveryFlakyAnswerEndsRight(t *testing.T) {
	if testing.Short() {
		t.Skip("the sweep runs hundreds of journeys")
	}
	full := os.Getenv("ARENA_SWEEP") == "full"
	var mu sync.Mutex
	totals := map[string][3]int{}          // store → cases, wrong, not recovered
	made := map[string]map[callSite]bool{} // each store's own call sites
	for _, store := range sweepStores {
		sites := sweepSites(t, store)
		if store.of == "" {
			made[store.name] = map[callSite]bool{}
			for _, s := range sites {
				made[store.name][s] = true
			}
		} else {
			// A world sweeps the calls its store's journey does not make.
			own := sites[:0]
			for _, s := range sites {
				if !made[store.of][s] {
					own = append(own, s)
				}
			}
			sites = own
		}
		var cases []sweepCase
		if full {
			for _, s := range sites {
				for k := range sweepKinds {
					cases = append(cases, sweepCase{site: s, kind: k}, sweepCase{site: s, kind: k, persistent: true})
				}
			}
		} else {
			cases = sample(store.name, sites)
		}
		t.Logf("%s: %d call sites, %d cases", store.name, len(sites), len(cases))
		t.Run(store.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.String(), func(t *testing.T) {
					t.Parallel()
					w := newSweepWorld(t, store)
					wrong, unrecovered := w.phase("plan", &c)
					aw, au := w.phase("apply", &c)
					wrong, unrecovered = append(wrong, aw...), append(unrecovered, au...)
					mu.Lock()
					n := totals[store.name]
					n[0]++
					if len(wrong) > 0 {
						n[1]++
					}
					if len(unrecovered) > 0 {
						n[2]++
					}
					totals[store.name] = n
					mu.Unlock()
					for _, msg := range wrong {
						t.Error(msg)
					}
					for _, msg := range unrecovered {
						t.Error(msg)
					}
				})
			}
		})
	}
	stores := make([]string, 0, len(totals))
	for s := range totals {
		stores = append(stores, s)
	}
	sort.Strings(stores)
	for _, s := range stores {
		t.Logf("%s: %d cases, %d ended wrong, %d not recovered by the re-run", s, totals[s][0], totals[s][1], totals[s][2])
	}
}
