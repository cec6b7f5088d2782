package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
)

// plantLock puts another run's lock record on the default target, as a
// run on another runner that took it would; it expires in an hour.
func (h *harness) plantLock(run *ghemu.Run) string {
	h.t.Helper()
	lock := target.New(".", "arena.yaml", "default").StateDir() + "/lock.json"
	h.gh.SetFile(stateBranch, lock, []byte(fmt.Sprintf(`{"run_id": %d, "run_attempt": %d, "run_url": "https://github.com/octo-org/app/actions/runs/%d",
  "actor": "hubot", "commit": "merge000", "target": %q, "started": "2026-11-27T08:59:00Z", "expires": "2026-11-27T09:59:00Z", "nonce": "n1"}`,
		run.ID, run.Attempt, run.ID, target.New(".", "arena.yaml", "default").StateDir())))
	return lock
}

// TestLockOfAFinishedRunIsTakenOverAtOnce: a runner that died mid-apply
// no longer blocks the target for the lock's lifetime. Its run finished
// (cancelled, failed, completed): the next apply takes the lock over at
// once, with a warning naming that run; a run still in progress is
// respected.
func TestLockOfAFinishedRunIsTakenOverAtOnce(t *testing.T) {
	for _, conclusion := range []string{"cancelled", "failure", "success"} {
		t.Run(conclusion, func(t *testing.T) {
			h := newHarness(t)
			holder := h.gh.AddRun(ghemu.Run{Event: "push", HeadSHA: "merge000", HeadBranch: "main"})
			pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
			h.planPR(pr, nil)
			h.merge(pr, "merge111", "Merge pull request #1")
			lock := h.plantLock(holder)

			// In progress: respected, nothing deployed.
			r := h.run(nil)
			if r.code != 1 || r.outputs["failure-reason"] != "lock-held" {
				t.Fatalf("holder in progress: exit %d %v\n%s", r.code, r.outputs, r.log)
			}
			if _, err := os.Stat(filepath.Join(h.workspace, ".deployed")); err == nil {
				t.Fatal("deployed while the holder's run was in progress")
			}

			// The holder's run ends: the next apply takes over within its
			// first poll (lock-timeout 0s), an hour before the lock expires.
			h.gh.CompleteRun(holder.ID, conclusion)
			h.gh.ResetLog()
			r = h.run(nil)
			if r.code != 0 || r.outputs["applied"] != "true" {
				t.Fatalf("holder %s: exit %d %v\n%s", conclusion, r.code, r.outputs, r.log)
			}
			want := fmt.Sprintf("Took over the deploy lock of run %d (attempt 1) by hubot", holder.ID)
			if !strings.Contains(r.log, want) || !strings.Contains(r.log, "its run has completed ("+conclusion+")") {
				t.Errorf("the warning does not name the run and why (%q):\n%s", want, r.log)
			}
			if n := h.gh.CountRequests(fmt.Sprintf("GET /repos/octo-org/app/actions/runs/%d", holder.ID)); n != 1 {
				t.Errorf("asked the runs API %d times, want once", n)
			}
			if _, ok := h.gh.GetFile(stateBranch, lock); ok {
				t.Error("the lock was not released after the apply")
			}
		})
	}
}

// TestLockOfAnEarlierAttemptIsTakenOver: a re-run of the job whose runner
// died (the same run, a later attempt) takes its own earlier attempt's
// lock at once, without asking.
func TestLockOfAnEarlierAttemptIsTakenOver(t *testing.T) {
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr, nil)
	run := h.merge(pr, "merge111", "Merge pull request #1")
	h.plantLock(run) // attempt 1 holds it, and died
	rerun := h.gh.Rerun(run.ID)
	h.env["GITHUB_RUN_ATTEMPT"] = fmt.Sprint(rerun.Attempt)
	h.env["ACTIONS_RUNTIME_TOKEN"] = h.gh.RuntimeToken(rerun)
	h.gh.ResetLog()
	r := h.run(nil)
	if r.code != 0 || !strings.Contains(r.log, "attempt 1 of this run holds it, and this is attempt 2") {
		t.Fatalf("re-run: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	if n := h.gh.CountRequests("GET /repos/octo-org/app/actions/runs/"); n != 0 {
		t.Errorf("asked the runs API %d times for its own run", n)
	}
}

// TestUnlock: command unlock needs confirm-unlock naming the environment,
// refuses while the holder's run is in progress unless force-unlock, and
// is recorded in the state branch's history with who asked.
func TestUnlock(t *testing.T) {
	h := newHarness(t)
	holder := h.gh.AddRun(ghemu.Run{Event: "push", HeadSHA: "merge000", HeadBranch: "main"})
	lock := h.plantLock(holder)
	h.must(h.runner.Dispatch("main1"))
	h.env["GITHUB_ACTOR"] = "oncall"

	r := h.run(map[string]string{"command": "unlock"})
	if r.code != 1 || r.outputs["failure-reason"] != "unlock-not-confirmed" || !strings.Contains(r.log, "Set confirm-unlock: default") {
		t.Fatalf("no confirmation: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	r = h.run(map[string]string{"command": "unlock", "confirm-unlock": "default"})
	if r.code != 1 || r.outputs["failure-reason"] != "lock-held" || !strings.Contains(r.log, "force-unlock: true") || !strings.Contains(r.log, "in_progress") {
		t.Fatalf("holder in progress: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	if _, ok := h.gh.GetFile(stateBranch, lock); !ok {
		t.Fatal("a living run's lock was freed without force-unlock")
	}
	r = h.run(map[string]string{"command": "unlock", "confirm-unlock": "default", "force-unlock": "true"})
	if r.code != 0 || r.outputs["unlocked"] != "true" {
		t.Fatalf("forced: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	if _, ok := h.gh.GetFile(stateBranch, lock); ok {
		t.Fatal("the lock is still there")
	}
	var recorded bool
	for _, c := range h.gh.Commits(stateBranch) {
		if strings.Contains(c.Message, "unlock") && strings.Contains(c.Message, "by oncall") && strings.Contains(c.Message, fmt.Sprintf("held by run %d", holder.ID)) {
			recorded = true
		}
	}
	if !recorded {
		t.Errorf("the unlock is not in the state branch's history: %+v", h.gh.Commits(stateBranch))
	}
	if !strings.Contains(r.summary, "🔓 Unlocked") || !strings.Contains(r.summary, "oncall") {
		t.Errorf("summary:\n%s", r.summary)
	}
	// Nothing left to free: a success that says so.
	r = h.run(map[string]string{"command": "unlock", "confirm-unlock": "default"})
	if r.code != 0 || r.outputs["unlocked"] != "false" || !strings.Contains(r.log, "is not locked") {
		t.Errorf("not locked: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
}

// webhook is a Slack-compatible endpoint that keeps what it is sent.
type webhook struct {
	mu   sync.Mutex
	msgs []string
	url  string
}

func newWebhook(t *testing.T) *webhook {
	w := &webhook{}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var body struct{ Text string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(rw, "bad request", 400)
			return
		}
		w.mu.Lock()
		w.msgs = append(w.msgs, body.Text)
		w.mu.Unlock()
		fmt.Fprint(rw, "ok")
	}))
	t.Cleanup(srv.Close)
	w.url = srv.URL + "/services/T0001/B0002/hooksecret7f3a9"
	return w
}

func (w *webhook) messages() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}

// TestNotifications: a failed apply and drift reach the webhook, masked
// and escaped; its address (a secret) reaches no output channel.
func TestNotifications(t *testing.T) {
	hook := newWebhook(t)
	const secret = "sk-live-5ecr3t-0mn1a-t0k3n"
	h := newHarness(t)
	h.env["OMNIA_API_TOKEN"] = secret
	in := map[string]string{"notify-webhook": hook.url}
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr, in)
	// An unreviewed edit lands with the merge: the apply refuses it.
	h.writeFile("support-bot.pack.json", strings.Replace(mustRead(t, filepath.Join(h.workspace, "support-bot.pack.json")),
		"five bullet points", "five bullet points <!channel> "+secret, 1))
	h.merge(pr, "merge111", "Merge pull request #1")
	r := h.run(in)
	if r.code != 1 || r.outputs["failure-reason"] != "pack-mismatch" {
		t.Fatalf("apply: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	msgs := hook.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1: %q", len(msgs), msgs)
	}
	for _, want := range []string{":x: *Arena apply to default failed (pack-mismatch)*", "octo-org/app", "pull request #1", "|run "} {
		if !strings.Contains(msgs[0], want) {
			t.Errorf("the message lacks %q:\n%s", want, msgs[0])
		}
	}
	for _, ch := range []string{shownLog(r.log), r.summary, fmt.Sprint(r.outputs), msgs[0]} {
		if strings.Contains(ch, "hooksecret7f3a9") || strings.Contains(ch, secret) {
			t.Errorf("a secret reached a channel:\n%s", ch)
		}
	}
	for _, c := range h.gh.Comments(pr.Number) {
		if strings.Contains(c.Body, "hooksecret7f3a9") {
			t.Error("the webhook's address reached the comment")
		}
	}

	// Drift: what drifted, one message; nothing when nothing drifted.
	h2 := deployed(t, in)
	h2.writeFile(".deployed/default/prompts/refund.json", `{"tampered": "<@U123> ping"}`)
	before := len(hook.messages())
	r = h2.dispatch(map[string]string{"command": "refresh", "notify-webhook": hook.url})
	msgs = hook.messages()[before:]
	if r.code != 0 || len(msgs) != 1 || !strings.Contains(msgs[0], ":warning: *Arena drift in default: 1 resources*") || !strings.Contains(msgs[0], "refund") {
		t.Fatalf("drift: exit %d, messages %q\n%s", r.code, msgs, r.log)
	}
	if strings.Contains(msgs[0], "<@") {
		t.Errorf("adapter text can mention people: %s", msgs[0])
	}
	r = h2.dispatch(map[string]string{"command": "refresh", "notify-webhook": hook.url, "notify-on": "apply-failed"})
	if len(hook.messages()) != before+1 {
		t.Errorf("notify-on without drift still notified drift")
	}

	// A webhook that is not https is refused before anything runs.
	r = h2.dispatch(map[string]string{"command": "status", "notify-webhook": "http://hooks.example.com/x"})
	if r.code != 2 || r.outputs["failure-reason"] != "invalid-input" || !strings.Contains(r.log, "notify-webhook") || strings.Contains(shownLog(r.log), "hooks.example.com") {
		t.Errorf("http webhook: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
}

// shownLog is the log as the runner shows it: ::add-mask:: lines are
// consumed (they are the one place a secret is printed, to hide it).
func shownLog(log string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if !strings.HasPrefix(l, "::add-mask::") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestUnlockWhenTheRunsAPICannotAnswer: a holder whose run cannot be asked
// about (no actions: read, an outage) may still be deploying: unlock
// refuses unless force-unlock, as for a run in progress, and says why.
func TestUnlockWhenTheRunsAPICannotAnswer(t *testing.T) {
	for name, fault := range map[string]ghemu.Fault{
		"no actions: read": {Status: 403, Message: "Resource not accessible by integration", Times: 100},
		"an outage":        {Status: 503, Times: 100},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			holder := h.gh.AddRun(ghemu.Run{Event: "push", HeadSHA: "merge000", HeadBranch: "main"})
			lock := h.plantLock(holder)
			h.must(h.runner.Dispatch("main1"))
			h.gh.Inject("GET /repos/{owner}/{repo}/actions/runs/{run_id}", fault)
			r := h.run(map[string]string{"command": "unlock", "confirm-unlock": "default"})
			if r.code != 1 || r.outputs["failure-reason"] != "lock-held" || !strings.Contains(r.log, "force-unlock: true") {
				t.Errorf("exit %d %v, want lock-held asking for force-unlock\n%s", r.code, r.outputs, r.log)
			}
			if _, ok := h.gh.GetFile(stateBranch, lock); !ok {
				t.Fatal("the lock of a run nobody could ask about was freed without force-unlock")
			}
			h.gh.ClearFaults()
			h.gh.Inject("GET /repos/{owner}/{repo}/actions/runs/{run_id}", fault)
			r = h.run(map[string]string{"command": "unlock", "confirm-unlock": "default", "force-unlock": "true"})
			if r.code != 0 || r.outputs["unlocked"] != "true" {
				t.Errorf("forced: exit %d %v\n%s", r.code, r.outputs, r.log)
			}
			// Once the lock has expired, the next deploy takes it over
			// anyway: unlock frees it without force.
			h.plantLock(holder)
			h.gh.Advance(2 * time.Hour)
			h.gh.ClearFaults()
			h.gh.Inject("GET /repos/{owner}/{repo}/actions/runs/{run_id}", fault)
			r = h.run(map[string]string{"command": "unlock", "confirm-unlock": "default"})
			if r.code != 0 || r.outputs["unlocked"] != "true" {
				t.Errorf("expired: exit %d %v\n%s", r.code, r.outputs, r.log)
			}
			if c := h.gh.Commits(stateBranch); !strings.Contains(c[len(c)-1].Message, "the lock expired at") {
				t.Errorf("the unlock's commit does not say the lock had expired: %q", c[len(c)-1].Message)
			}
		})
	}
}

// TestNotificationAddressNeverLogged: a webhook that asks to slow down
// (429) is tried again, and its address, whose path holds the token, is
// in no log line, whatever its query says (Discord's Slack-compatible
// address ends in /slack?wait=true).
func TestNotificationAddressNeverLogged(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			rw.Header().Set("Retry-After", "1")
			http.Error(rw, "rate limited", http.StatusTooManyRequests)
			return
		}
		fmt.Fprint(rw, "ok")
	}))
	t.Cleanup(srv.Close)
	url := srv.URL + "/api/webhooks/1234/t0k3n-5ecr3t-path/slack?wait=true"
	in := map[string]string{"notify-webhook": url}
	h := newHarness(t)
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr, in)
	h.writeFile("support-bot.pack.json", strings.Replace(mustRead(t, filepath.Join(h.workspace, "support-bot.pack.json")),
		"five bullet points", "six bullet points", 1))
	h.merge(pr, "merge111", "Merge pull request #1")
	r := h.run(in)
	if r.code != 1 || r.outputs["failure-reason"] != "pack-mismatch" {
		t.Fatalf("apply: exit %d %v\n%s", r.code, r.outputs, r.log)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 2 {
		t.Errorf("%d calls, want 2 (the 429, then the message)", calls)
	}
	if shown := shownLog(r.log); strings.Contains(shown, "t0k3n-5ecr3t-path") {
		t.Errorf("the webhook's token reached the log:\n%s", shown)
	}
}

// TestLockOfANewerAttemptThanTheRunsAPIKnows: the runs API answers for an
// earlier attempt than the one holding the lock (an answer from before
// the re-run started: a replica behind): "completed" is that attempt's,
// not the holder's, and the lock is respected.
func TestLockOfANewerAttemptThanTheRunsAPIKnows(t *testing.T) {
	h := newHarness(t)
	holder := h.gh.AddRun(ghemu.Run{Event: "push", HeadSHA: "merge000", HeadBranch: "main"})
	h.gh.CompleteRun(holder.ID, "failure") // attempt 1, as the API still tells it
	pr := h.gh.AddPull(ghemu.Pull{HeadSHA: "head1"})
	h.planPR(pr, nil)
	h.merge(pr, "merge111", "Merge pull request #1")
	rerun := *holder
	rerun.Attempt = 2 // the re-run that holds the lock, which the API does not show yet
	h.plantLock(&rerun)
	r := h.run(nil)
	if r.code != 1 || r.outputs["failure-reason"] != "lock-held" {
		t.Errorf("exit %d %v, want lock-held: attempt 2 may be deploying\n%s", r.code, r.outputs, r.log)
	}
	if _, err := os.Stat(filepath.Join(h.workspace, ".deployed")); err == nil {
		t.Error("deployed while attempt 2 held the lock")
	}
}
