package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

// TestMissingTokenIsInvalidInput: in GitHub Actions without a token, an
// apply would deploy and keep the state only in the throwaway workspace.
// It is refused before anything else: no adapter, no API call.
func TestMissingTokenIsInvalidInput(t *testing.T) {
	for _, event := range []string{"push", "pull_request"} {
		t.Run(event, func(t *testing.T) {
			h := newHarness(t)
			if event == "push" {
				h.push("direct11", "hotfix")
			} else {
				h.pullRequest(h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"}))
			}
			delete(h.env, "INPUT_GITHUB-TOKEN")
			r := h.run(map[string]string{"on-missing-plan": "plan-and-apply"})
			if r.code != exitUsage || r.outputs["failure-reason"] != "invalid-input" || !strings.Contains(r.log, "github-token: ${{ github.token }}") {
				t.Fatalf("exit %d %v\n%s", r.code, r.outputs, r.log)
			}
			if n := len(h.gh.Requests()); n != 0 {
				t.Errorf("%d requests made before refusing", n)
			}
			for _, p := range []string{".deployed", ".promptarena/deploy.state", ".promptarena/deploy.plan"} {
				if _, err := os.Stat(filepath.Join(h.workspace, p)); err == nil {
					t.Errorf("%s written without a token", p)
				}
			}
		})
	}
}

// TestNoArtifactServiceFailsThePlan: GitHub Enterprise Server before 3.13
// has no ACTIONS_RESULTS_URL. The plan is shown, but the run fails with its
// own reason, and the comment does not promise that merging applies it.
func TestNoArtifactServiceFailsThePlan(t *testing.T) {
	h := newHarness(t)
	delete(h.env, "ACTIONS_RESULTS_URL")
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.pullRequest(pr)
	r := h.run(nil)
	if r.code != exitFailure || r.outputs["failure-reason"] != "artifact-service-unavailable" || r.outputs["to-create"] != "4" {
		t.Fatalf("exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	body := h.gh.Comments(pr.Number)[0].Body
	for _, want := range []string{"+4 to create", "does not apply this plan", "no artifact service", "3.13", "plan-and-apply"} {
		if !strings.Contains(body, want) || !strings.Contains(r.summary, want) {
			t.Errorf("comment or summary lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "applies exactly this plan") {
		t.Error("the comment still promises the merge applies the plan")
	}
	if !strings.Contains(r.log, "Alternatives") {
		t.Errorf("the log has no alternatives:\n%s", r.log)
	}
	if _, err := os.Stat(filepath.Join(h.workspace, ".promptarena/deploy.plan")); err == nil {
		t.Error("the plan was kept in the runner's workspace as if it could be applied")
	}
}

// TestRerunOfThePlanJob: a re-run is a new job of the same run; its plan
// replaces the first attempt's artifact of the same name (deleted with
// that artifact's own ids, as GitHub's toolkit does), even while the
// service still holds the name for a moment, and the merge applies it.
func TestRerunOfThePlanJob(t *testing.T) {
	h := newHarness(t)
	h.gh.LagDeletes(2)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	first := h.planPR(pr, nil)
	h.runner.Rerun(h.gh.Runs()[0])
	second := h.run(nil)
	if second.code != 0 || second.outputs["artifact-name"] != first.outputs["artifact-name"] || second.outputs["artifact-id"] == first.outputs["artifact-id"] {
		t.Fatalf("re-run: exit %d %v\n%s", second.code, second.outputs, second.log)
	}
	live := 0
	for _, a := range h.gh.Artifacts() {
		if a.Name == first.outputs["artifact-name"] && !a.Deleted {
			live++
		}
	}
	if live != 1 {
		t.Errorf("%d live artifacts named %s, want 1", live, first.outputs["artifact-name"])
	}
	h.merge(pr, "merge111", "Merge pull request #1")
	if r := h.run(nil); r.code != 0 || r.outputs["applied"] != "true" {
		t.Fatalf("apply after a re-run: %v\n%s", r.outputs, r.log)
	}
}

// TestRetentionCappedByRepository: retention-days above the repository's
// retention is capped with a warning, as actions/upload-artifact does.
func TestRetentionCappedByRepository(t *testing.T) {
	h := newHarness(t)
	h.env["GITHUB_RETENTION_DAYS"] = "30"
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	r := h.planPR(pr, map[string]string{"retention-days": "90"})
	if !strings.Contains(r.log, "::warning::retention-days is 90, but this repository keeps artifacts at most 30 days") {
		t.Errorf("no warning:\n%s", r.log)
	}
	for _, a := range h.gh.Artifacts() {
		if a.Name == r.outputs["artifact-name"] {
			if got := a.ExpiresAt.Sub(a.CreatedAt); got != 30*24*time.Hour {
				t.Errorf("artifact kept %s, want 30 days", got)
			}
		}
	}
	// Within the repository's retention: no warning.
	if r := h.planPR(pr, map[string]string{"retention-days": "7"}); strings.Contains(r.log, "retention-days is") {
		t.Errorf("warned for a retention within the cap:\n%s", r.log)
	}
}

// TestRateLimitNeverBlocksTheStateWrite: go-github refuses every call
// locally after a primary rate limit until its reset. A limit met while
// the comment says "applying" must not stop the state write after the
// deploy; and a limit met by the write itself is waited out.
func TestRateLimitNeverBlocksTheStateWrite(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr, nil)
	h.merge(pr, "merge111", "Merge pull request #1")
	// The "applying" edit meets a limit that lasts an hour of wall-clock
	// time (go-github's clock), far beyond what the policy waits.
	h.gh.Inject("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", ghemu.Fault{Status: 403, Primary: true, ResetAt: time.Now().Add(time.Hour)})
	// The state write (its ref update) meets one that resets in five minutes.
	h.gh.Inject("PATCH /repos/{owner}/{repo}/git/refs/{ref...}", ghemu.Fault{Status: 403, Primary: true, ResetAt: h.gh.Now().Add(5 * time.Minute)})
	r := h.run(nil)
	if r.code != 0 || r.outputs["applied"] != "true" || r.outputs["state-sha"] == "" {
		t.Fatalf("exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	if _, ok := h.stateOf(".", "default"); !ok {
		t.Fatal("the state was not written")
	}
	// The final comment could not be written (the limit holds): said so,
	// in the log and in the summary.
	if !strings.Contains(r.log, "could not be updated with this result") || !strings.Contains(r.summary, "could not be updated with this result") {
		t.Errorf("the stale comment is not reported:\n%s", r.log)
	}
}

// TestLastCommentEditOutageIsReported: a lasting 5xx on the final comment
// edit leaves the comment as it was; the run says so instead of staying
// silent.
func TestLastCommentEditOutageIsReported(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr, nil)
	h.merge(pr, "merge111", "Merge pull request #1")
	// The first edit ("applying") passes; the final one meets a lasting 502.
	h.gh.Inject("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", ghemu.Fault{Delay: time.Millisecond})
	h.gh.Inject("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", ghemu.Fault{Status: 502, Times: 5})
	r := h.run(nil)
	if r.code != 0 || r.outputs["applied"] != "true" {
		t.Fatalf("exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	if !strings.Contains(h.gh.Comments(pr.Number)[0].Body, "pplying") {
		t.Fatalf("the fault did not hold: %s", h.gh.Comments(pr.Number)[0].Body)
	}
	for where, text := range map[string]string{"log": r.log, "summary": r.summary} {
		if !strings.Contains(text, "may still say it is applying") {
			t.Errorf("the %s does not say the comment is stale:\n%s", where, text)
		}
	}
}

// TestLostStateWriteAnswer: GitHub does the write but the answer is lost;
// the retried write meets our own commit. That is our write, not another
// deploy's: the run succeeds, nothing is kept aside. The same for the lock
// record: finding our own lock is holding it.
func TestLostStateWriteAnswer(t *testing.T) {
	for _, tc := range []struct {
		name, route string
		commits     int // made on the state branch: the lock, the state
	}{
		{"state write (ref update)", "PATCH /repos/{owner}/{repo}/git/refs/{ref...}", 2},
		{"lock write", "PUT /repos/{owner}/{repo}/contents/{path...}", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			// The state branch exists (another target's state is on it).
			h.gh.SetFile(stateBranch, "staging-00000000/record.json", []byte(`{"version":1,"serial":1}`))
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
			h.planPR(pr, nil)
			h.merge(pr, "merge111", "Merge pull request #1")
			h.gh.Inject(tc.route, ghemu.Fault{DropAnswer: true})
			r := h.run(nil)
			if r.code != 0 || r.outputs["applied"] != "true" || r.outputs["state-artifact"] != "" {
				t.Fatalf("exit %d %v\n%s", r.code, r.outputs, r.log)
			}
			if n := len(h.gh.Commits(stateBranch)); n != tc.commits {
				t.Errorf("%d commits on the state branch, want %d", n, tc.commits)
			}
			if _, ok := h.stateOf(".", "default"); !ok {
				t.Error("no state")
			}
			if _, ok := h.gh.GetFile(stateBranch, target.New(".", "arena.yaml", "default").StateDir()+"/lock.json"); ok {
				t.Error("lock left behind")
			}
		})
	}
}

// TestLostLegacyStateWriteAnswer: with state-branch: "" (the committed
// file on the checked-out branch), a lock or state write whose answer was
// lost is our own write, and state-sha is the state's commit, as for an
// answered write.
func TestLostLegacyStateWriteAnswer(t *testing.T) {
	for _, route := range []string{"PUT /repos/{owner}/{repo}/contents/{path...}", "PATCH /repos/{owner}/{repo}/git/refs/{ref...}"} {
		t.Run(route, func(t *testing.T) {
			h := newHarness(t)
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
			h.planPR(pr, map[string]string{"state-branch": ""})
			h.merge(pr, "merge111", "Merge pull request #1")
			h.gh.Inject(route, ghemu.Fault{DropAnswer: true})
			r := h.run(map[string]string{"state-branch": ""})
			if r.code != 0 || r.outputs["applied"] != "true" || r.outputs["state-artifact"] != "" {
				t.Fatalf("exit %d %v\n%s", r.code, r.outputs, r.log)
			}
			commits := h.gh.Commits("main")
			last := commits[len(commits)-1]
			if !strings.Contains(last.Message, "state after") || r.outputs["state-sha"] != last.SHA || h.gh.Head("main") != last.SHA {
				t.Errorf("state-sha %q, want the state's commit (%+v)", r.outputs["state-sha"], commits)
			}
			if _, ok := h.gh.GetFile("main", ".promptarena/deploy.state.record.json"); !ok {
				t.Error("no record beside the state")
			}
			if _, ok := h.gh.GetFile("main", ".promptarena/deploy.state.lock"); ok {
				t.Error("lock left behind")
			}
		})
	}
}

// TestGarbledAnswersAreGitHubs: an answer that arrives whole but is not
// what its headers say (gzip bytes under a JSON or zip Content-Type) is
// asked for again like one cut off; when GitHub keeps sending them, the
// run fails as GitHub's failure (github-api-error), never "This is a bug"
// (internal-error), on every read of an apply over both stores.
func TestGarbledAnswersAreGitHubs(t *testing.T) {
	for _, tc := range []struct {
		backend string
		route   string
	}{
		{"", "GET /repos/{owner}/{repo}/contents/{path...}"}, // record.json on the state branch
		{"", "GET /repos/{owner}/{repo}/actions/artifacts"},
		{"artifact", "GET /repos/{owner}/{repo}/actions/artifacts"},
		{"artifact", "GET /repos/{owner}/{repo}/actions/runs"}, // the trust check
		{"artifact", "GET /_blob/download/{key}"},              // the state's zip
		{"artifact", "GET /repos/{owner}/{repo}/compare/{basehead}"},
	} {
		for _, times := range []int{1, 99} {
			t.Run(tc.backend+" "+tc.route+" "+strconv.Itoa(times), func(t *testing.T) {
				in := map[string]string{}
				if tc.backend != "" {
					in["state-backend"] = tc.backend
				}
				h := deployed(t, in)
				pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
				h.writeFile("support-bot.pack.json", strings.Replace(mustRead(t, h.workspace+"/support-bot.pack.json"), "five bullet points", "three bullet points", 1))
				h.planPR(pr, in)
				if strings.Contains(tc.route, "compare") {
					// A commit between the state's and this push's: the state's
					// commit is then not this push's before, and is compared.
					h.gh.Mainline("other000")
				}
				h.merge(pr, "merge222", "Merge pull request #2")
				h.gh.ResetLog()
				h.gh.Inject(tc.route, ghemu.Fault{Garble: true, Times: times})
				r := h.run(in)
				met := 0
				for _, req := range h.gh.Requests() {
					if req.Route == tc.route {
						met++
					}
				}
				if met == 0 {
					t.Fatalf("the apply made no request to %s", tc.route)
				}
				if strings.Contains(r.log, "This is a bug") || r.outputs["failure-reason"] == "internal-error" {
					t.Fatalf("GitHub's garbled answers reported as our bug:\n%s", r.log)
				}
				if times == 1 {
					if r.code != 0 || r.outputs["applied"] != "true" || !strings.Contains(r.log, "garbled answer; retry 1 of 4") {
						t.Fatalf("one garbled answer failed the run: exit %d %v\n%s", r.code, r.outputs, r.log)
					}
					return
				}
				if r.code != 1 || r.outputs["failure-reason"] != "github-api-error" || !strings.Contains(r.log, "githubstatus.com") {
					t.Fatalf("exit %d %v\n%s", r.code, r.outputs, r.log)
				}
			})
		}
	}
}

// Faults that leave an artifact created but never finalized: its name is
// taken for the rest of the run, re-runs included, and no listing shows it
// (internal/ghemu, TestUnfinalizedArtifactHoldsItsName, says how GitHub's
// service behaves).
var burningFaults = []struct {
	name, route string
	fault       ghemu.Fault
}{
	{"create answer lost", "POST " + ghemu.TwirpPrefix + "CreateArtifact", ghemu.Fault{DropAnswer: true}},
	{"create answer cut off", "POST " + ghemu.TwirpPrefix + "CreateArtifact", ghemu.Fault{Truncate: true}},
	{"create answer garbled", "POST " + ghemu.TwirpPrefix + "CreateArtifact", ghemu.Fault{Garble: true}},
	{"block upload refused", "PUT /_blob/upload/{key}", ghemu.Fault{Status: 403, Message: "AuthenticationFailed"}},
	{"finalize refused", "POST " + ghemu.TwirpPrefix + "FinalizeArtifact", ghemu.Fault{Status: 403}},
	{"finalize answer lost", "POST " + ghemu.TwirpPrefix + "FinalizeArtifact", ghemu.Fault{DropAnswer: true}},
}

// TestBurntPlanArtifactName: the plan run whose artifact upload meets one
// of those faults uploads the plan under another name and succeeds; its
// re-run succeeds too, and the merge applies the re-run's plan.
func TestBurntPlanArtifactName(t *testing.T) {
	for _, tc := range burningFaults {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
			run := h.pullRequest(pr)
			h.gh.Inject(tc.route, tc.fault)
			first := h.run(nil)
			if first.code != 0 || first.outputs["artifact-id"] == "" {
				t.Fatalf("plan: exit %d %v\n%s", first.code, first.outputs, first.log)
			}
			// The re-run plans a changed pack: the merge must apply it.
			h.writeFile("support-bot.pack.json", strings.Replace(mustRead(t, h.workspace+"/support-bot.pack.json"), "five bullet points", "three bullet points", 1))
			h.runner.Rerun(run)
			second := h.run(nil)
			if second.code != 0 || second.outputs["artifact-id"] == "" || second.outputs["plan-id"] == first.outputs["plan-id"] {
				t.Fatalf("re-run: exit %d %v\n%s", second.code, second.outputs, second.log)
			}
			h.merge(pr, "merge111", "Merge pull request #1")
			r := h.run(nil)
			if r.code != 0 || r.outputs["applied"] != "true" || r.outputs["plan-id"] != second.outputs["plan-id"] {
				t.Fatalf("apply: exit %d %v (want plan %s)\n%s", r.code, r.outputs, second.outputs["plan-id"], r.log)
			}
		})
	}
}

// TestBurntStateArtifactName: with state-backend: artifact, the apply
// whose state upload meets one of those faults writes the state (under
// another name) and succeeds; the next run loads that state, and a re-run
// of the apply is "already applied".
func TestBurntStateArtifactName(t *testing.T) {
	in := map[string]string{"state-backend": "artifact"}
	for _, tc := range burningFaults {
		t.Run(tc.name, func(t *testing.T) {
			h := deployed(t, in)
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
			h.writeFile("support-bot.pack.json", strings.Replace(mustRead(t, h.workspace+"/support-bot.pack.json"), "five bullet points", "three bullet points", 1))
			h.planPR(pr, in)
			run := h.merge(pr, "merge222", "Merge pull request #2")
			h.gh.Inject(tc.route, tc.fault)
			r := h.run(in)
			if r.code != 0 || r.outputs["applied"] != "true" || !strings.HasPrefix(r.outputs["state-artifact"], "arena-state-default-") || strings.Contains(r.outputs["state-artifact"], "merge222") {
				t.Fatalf("apply: exit %d %v\n%s", r.code, r.outputs, r.log)
			}
			h.runner.Rerun(run)
			again := h.run(in)
			if again.code != 0 || !strings.Contains(again.summary, "Already applied") {
				t.Fatalf("re-run: exit %d %v\n%s", again.code, again.outputs, again.log)
			}
			status := h.dispatch(map[string]string{"command": "status", "state-backend": "artifact"})
			if status.code != 0 || status.outputs["status"] != "deployed" || status.outputs["drift"] != "0" {
				t.Fatalf("status: exit %d %v\n%s", status.code, status.outputs, status.log)
			}
		})
	}
}

// TestRateLimitNeverBlocksTheStateArtifact: with state-backend: artifact,
// a secondary rate limit met by the "applying" comment edit (go-github
// then refuses that client's calls for a while) must not stop the state's
// listing, upload and the lock's release: they have their own client.
func TestRateLimitNeverBlocksTheStateArtifact(t *testing.T) {
	in := map[string]string{"state-backend": "artifact"}
	h := deployed(t, in)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head2"})
	h.writeFile("support-bot.pack.json", strings.Replace(mustRead(t, h.workspace+"/support-bot.pack.json"), "five bullet points", "three bullet points", 1))
	h.planPR(pr, in)
	h.merge(pr, "merge222", "Merge pull request #2")
	h.gh.Inject("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", ghemu.Fault{Status: 403, Secondary: true, RetryAfter: "30", Times: 1000})
	r := h.run(in)
	if r.code != 0 || r.outputs["applied"] != "true" || r.outputs["state-artifact"] != target.New(".", "arena.yaml", "default").StateArtifact() {
		t.Fatalf("exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	if strings.Contains(r.log, "release the deploy lock") {
		t.Errorf("the lock was not released:\n%s", r.log)
	}
}

// TestStateWriteVerifiedBeforeFailing: a state write whose answers failed
// although it landed is found by reading again, on every store, before
// the run calls it failed: the state artifact's finalize answered garbled
// every time, the listing after the upload down, the committed file's
// and the state branch's ref update answered garbled every time. The run
// is green and the state written; no "could not be written".
func TestStateWriteVerifiedBeforeFailing(t *testing.T) {
	last := func(store sweepStore, route string) callSite {
		var site callSite
		for _, s := range sweepSites(t, store) {
			if s.phase == "apply" && s.route == route {
				site = s
			}
		}
		if site.route == "" {
			t.Fatalf("no %s in a clean apply", route)
		}
		return site
	}
	garbled, lost := 10, 9
	if sweepKinds[garbled].name != "garbled" || sweepKinds[lost].name != "lost answer" {
		t.Fatal("sweepKinds changed")
	}
	for _, tc := range []struct {
		name  string
		store sweepStore
		route string
		kind  int
	}{
		{"state artifact's finalize", sweepStores[1], "POST " + ghemu.TwirpPrefix + "FinalizeArtifact", garbled},
		{"listing after the upload", sweepStores[1], "GET /repos/{owner}/{repo}/actions/artifacts", lost},
		{"committed file's ref update", sweepStores[2], "PATCH /repos/{owner}/{repo}/git/refs/{ref...}", garbled},
		{"state branch's ref update", sweepStores[0], "PATCH /repos/{owner}/{repo}/git/refs/{ref...}", garbled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &sweepCase{site: last(tc.store, tc.route), kind: tc.kind, persistent: true}
			w := newSweepWorld(t, tc.store)
			if wrong, unrecovered := w.phase("plan", nil); len(wrong)+len(unrecovered) > 0 {
				t.Fatal(wrong, unrecovered)
			}
			h := w.h
			h.merge(w.pr, "merge222", "Merge pull request #2")
			f := sweepKinds[c.kind].fault(h)
			f.Skip, f.Times = c.site.n, 1<<20
			h.gh.Inject(c.site.route, f)
			r := h.run(w.store.in)
			rec := w.record()
			if r.code != 0 || strings.Contains(r.log, "could not be written") || rec == nil || rec.Commit != "merge222" || rec.PlanID != r.outputs["plan-id"] {
				t.Fatalf("exit %d %v, record %+v\n%s", r.code, r.outputs, rec, r.log)
			}
		})
	}
}
