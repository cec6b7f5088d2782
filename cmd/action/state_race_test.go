package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

// TestRacingAppliesOnSeparateRunners: every round, three pull requests are
// planned against the same state and merged one after another; their
// applies (and a re-run of one of them) then start at once, in a random
// order, as separate processes with separate workspaces against one
// GitHub, deploying to one shared production directory, with
// on-stale-plan: replan. Whatever the order: no update is lost (the
// record's serial counts every successful apply), nothing rolls back (the
// newest merge is what is recorded and deployed), no apply deploys on a
// stale state (status finds no drift), and every other run exits non-zero
// with lock-held, state-conflict or superseded, or succeeds as "already
// applied".
func TestRacingAppliesOnSeparateRunners(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	for _, backend := range []string{"git", "committed", "artifact"} {
		t.Run(backend, func(t *testing.T) { raceApplies(t, backend, 5) })
	}
}

type raceRun struct {
	sha     string
	variant int
	code    int
	outputs map[string]string
	log     string
}

func raceApplies(t *testing.T, backend string, rounds int) {
	h := newHarness(t)
	prod := t.TempDir() // the production both runners deploy to
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	pristine := mustRead(t, filepath.Join(h.workspace, "support-bot.pack.json"))
	arena := strings.Replace(mustRead(t, filepath.Join(h.workspace, "arena.yaml")), "target_dir: .deployed/default", "target_dir: "+prod, 1)
	variant := func(round, i int) string {
		return strings.Replace(pristine, "five bullet points", fmt.Sprintf("round %d variant %d bullet points", round, i), 1)
	}
	in := map[string]string{"state-backend": backend, "on-stale-plan": "replan", "lock-timeout": "20s"}
	if backend == "committed" { // the committed file: state-branch: ''
		in = map[string]string{"state-branch": "", "on-stale-plan": "replan", "lock-timeout": "20s"}
	}
	h.writeFile("arena.yaml", arena)
	applied, outcomes := 0, map[string]int{}
	for round := 0; round < rounds; round++ {
		const k = 3
		shas := make([]string, k)
		for i := 0; i < k; i++ {
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: fmt.Sprintf("head%02d%d", round, i)})
			h.writeFile("support-bot.pack.json", variant(round, i))
			h.planPR(pr, in)
			shas[i] = fmt.Sprintf("merge%02d%d", round, i)
			h.gh.MergePull(pr.Number, shas[i]) // merged in this order
		}
		// One runner per apply, and a re-run of a random one.
		jobs := []int{0, 1, 2, rng.Intn(k)}
		rng.Shuffle(len(jobs), func(a, b int) { jobs[a], jobs[b] = jobs[b], jobs[a] })
		runs := make([]*raceRun, len(jobs))
		cmds := make([]*exec.Cmd, len(jobs))
		steps := make([]*ghemu.Step, len(jobs))
		outs := make([]*bytes.Buffer, len(jobs))
		for n, i := range jobs {
			ws := deploytest.CopyExample(t)
			if err := os.WriteFile(filepath.Join(ws, "arena.yaml"), []byte(arena), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(ws, "support-bot.pack.json"), []byte(variant(round, i)), 0o644); err != nil {
				t.Fatal(err)
			}
			r := h.gh.NewRunner(ws, t.TempDir())
			r.Env["PATH"], r.Env["HOME"] = h.env["PATH"], h.env["HOME"]
			if _, err := r.Push(shas[i], fmt.Sprintf("Merge pull request (round %d, change %d)", round, i)); err != nil {
				t.Fatal(err)
			}
			env, step, err := r.Environ(in)
			if err != nil {
				t.Fatal(err)
			}
			runs[n], steps[n], outs[n] = &raceRun{sha: shas[i], variant: i}, step, &bytes.Buffer{}
			cmds[n] = exec.Command(os.Args[0])
			cmds[n].Env, cmds[n].Stdout, cmds[n].Stderr = append(env, actionProcessEnv+"=1"), outs[n], outs[n]
		}
		delays := make([]time.Duration, len(cmds)) // drawn here: rng is not for goroutines
		for n := range delays {
			delays[n] = time.Duration(rng.Intn(30)) * time.Millisecond
		}
		var wg sync.WaitGroup
		for n := range cmds {
			wg.Add(1)
			go func(n int) {
				defer wg.Done()
				time.Sleep(delays[n])
				err := cmds[n].Run()
				if ee, ok := err.(*exec.ExitError); ok {
					runs[n].code = ee.ExitCode()
				} else if err != nil {
					runs[n].code = -1
				}
			}(n)
		}
		wg.Wait()
		for n, r := range runs {
			var err error
			if r.outputs, err = steps[n].Outputs(); err != nil {
				t.Fatal(err)
			}
			r.log = outs[n].String()
			switch {
			case r.code == 0 && strings.Contains(r.log, "Already applied"):
				outcomes["already applied"]++
			case r.code == 0 && r.outputs["applied"] == "true":
				applied++
				outcomes["applied"]++
			case r.code == 1 && (r.outputs["failure-reason"] == "lock-held" || r.outputs["failure-reason"] == "state-conflict" || r.outputs["failure-reason"] == "superseded"):
				outcomes[r.outputs["failure-reason"]]++
			default:
				t.Fatalf("round %d: %s (change %d): exit %d %v\n%s", round, r.sha, r.variant, r.code, r.outputs, r.log)
			}
		}
		// The newest merge that applied is recorded and deployed (the newest
		// of the round always does, unless it gave up waiting: lock-held);
		// every apply counted.
		newest := -1
		for _, r := range runs {
			if r.code == 0 && r.variant > newest {
				newest = r.variant
			}
		}
		if newest < k-1 {
			for _, r := range runs {
				if r.variant == k-1 && r.outputs["failure-reason"] != "lock-held" {
					t.Fatalf("round %d: the newest merge neither applied nor waited out the lock\n%s", round, dump(runs))
				}
			}
		}
		rec, pack := recordOf(t, h, backend)
		if newest >= 0 && (rec.Commit != shas[newest] || (pack != nil && !strings.Contains(string(pack), fmt.Sprintf("round %d variant %d", round, newest)))) {
			t.Fatalf("round %d: recorded %s, want the newest merge applied, %s (a rollback or a lost update)\n%s", round, rec.Commit, shas[newest], dump(runs))
		}
		if int(rec.Serial) != applied {
			t.Fatalf("round %d: serial %d after %d successful applies: an update was lost\n%s", round, rec.Serial, applied, dump(runs))
		}
		got := mustRead(t, filepath.Join(prod, "prompts", "escalation.json"))
		if newest >= 0 && !strings.Contains(got, fmt.Sprintf("round %d variant %d", round, newest)) {
			t.Fatalf("round %d: production holds %q, not the newest merge's", round, got)
		}
	}
	// No apply deployed over a state it had not read: what the state says
	// is what production holds.
	h.must(h.runner.Dispatch("status"))
	status := map[string]string{"command": "status"}
	for _, k := range []string{"state-backend", "state-branch"} {
		if v, ok := in[k]; ok {
			status[k] = v
		}
	}
	st := h.run(status)
	if st.code != 0 || st.outputs["status"] != "deployed" || st.outputs["drift"] != "0" {
		t.Fatalf("status after the races: %v\n%s", st.outputs, st.log)
	}
	if outcomes["superseded"]+outcomes["already applied"]+outcomes["lock-held"]+outcomes["state-conflict"] == 0 {
		t.Fatalf("no run lost a race in %d rounds: the test did not race (%v)", rounds, outcomes)
	}
	t.Logf("%s backend, %d rounds: %v", backend, rounds, outcomes)
}

func dump(runs []*raceRun) string {
	var b strings.Builder
	for _, r := range runs {
		fmt.Fprintf(&b, "--- %s (change %d): exit %d %v\n", r.sha, r.variant, r.code, r.outputs)
	}
	return b.String()
}

// recordOf is the target's record and deployed pack (nil: the committed
// file keeps none), as the backend holds them.
func recordOf(t *testing.T, h *harness, backend string) (*state.Record, []byte) {
	t.Helper()
	var rec state.Record
	if backend == "committed" {
		raw, _ := h.gh.GetFile("main", ".promptarena/deploy.state"+state.RecordSuffix)
		if err := json.Unmarshal(raw, &rec); err != nil {
			t.Fatalf("record %s: %v", raw, err)
		}
		return &rec, nil
	}
	if backend == "git" {
		dir := target.New(".", "arena.yaml", "default").StateDir()
		raw, _ := h.gh.GetFile(stateBranch, dir+"/record.json")
		if err := json.Unmarshal(raw, &rec); err != nil {
			t.Fatalf("record %s: %v", raw, err)
		}
		pack, _ := h.gh.GetFile(stateBranch, dir+"/deployed.pack.json")
		return &rec, pack
	}
	var newest *ghemu.Artifact
	for _, a := range h.gh.Artifacts() {
		if a.Name == defaultStateArtifact && a.Finalized && !a.Deleted && (newest == nil || a.ID > newest.ID) {
			a := a
			newest = &a
		}
	}
	if newest == nil {
		t.Fatal("no state artifact")
	}
	files := h.artifactFiles(newest.ID)
	if err := json.Unmarshal(files[state.RecordFile], &rec); err != nil {
		t.Fatalf("record: %v", err)
	}
	return &rec, files[state.DeployedPackFile]
}
