package run

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"

	"github.com/google/go-github/v60/github"

	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/artifacts"
	"github.com/arena-deploy/arena-deploy-action/internal/state"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/ghclient"
)

func TestPlanIDStableAndSensitive(t *testing.T) {
	base := PlanIDInput{
		PackChecksum: "sha256:aa", DeployConfig: `{"a":1}`, Environment: "prod", PriorStateDigest: "none",
		Provider: "local", AdapterName: "local", AdapterVersion: "1.0.0",
		Changes: []deploy.ResourceChange{{Type: "prompt", Name: "a", Action: deploy.ActionCreate}, {Type: "prompt", Name: "b", Action: deploy.ActionUpdate, Detail: "d"}},
	}
	id := PlanID(base)
	reordered := base
	reordered.Changes = []deploy.ResourceChange{base.Changes[1], base.Changes[0]}
	if PlanID(reordered) != id {
		t.Error("the adapter's order of changes changed the id")
	}
	mods := map[string]func(in *PlanIDInput){
		"pack":    func(in *PlanIDInput) { in.PackChecksum = "sha256:bb" },
		"config":  func(in *PlanIDInput) { in.DeployConfig = `{"a":2}` },
		"env":     func(in *PlanIDInput) { in.Environment = "staging" },
		"state":   func(in *PlanIDInput) { in.PriorStateDigest = "sha256:cc" },
		"adapter": func(in *PlanIDInput) { in.AdapterVersion = "1.0.1" },
		"changes": func(in *PlanIDInput) {
			in.Changes = []deploy.ResourceChange{{Type: "prompt", Name: "a", Action: deploy.ActionCreate}}
		},
		"detail": func(in *PlanIDInput) {
			in.Changes = []deploy.ResourceChange{base.Changes[0], {Type: "prompt", Name: "b", Action: deploy.ActionUpdate, Detail: "other"}}
		},
	}
	for name, mod := range mods {
		in := base
		mod(&in)
		if PlanID(in) == id {
			t.Errorf("changing %s did not change the id", name)
		}
	}
}

func TestUnifiedDiff(t *testing.T) {
	before := planLines([]deploy.ResourceChange{{Type: "prompt", Name: "a", Action: deploy.ActionCreate}, {Type: "prompt", Name: "b", Action: deploy.ActionNoChange}})
	after := planLines([]deploy.ResourceChange{{Type: "prompt", Name: "b", Action: deploy.ActionNoChange}, {Type: "prompt", Name: "a", Action: deploy.ActionNoChange}})
	d := unifiedDiff(before, after)
	for _, want := range []string{"--- reviewed plan", "+++ plan now", "-CREATE    prompt/a", "+NO_CHANGE prompt/a", " NO_CHANGE prompt/b"} {
		if !strings.Contains(d, want) {
			t.Errorf("diff lacks %q:\n%s", want, d)
		}
	}
	if planLines(nil) != "" {
		t.Error("empty plan")
	}
}

func TestClassify(t *testing.T) {
	cases := map[error]string{
		errString("boom"): ReasonInternal,
		fmt.Errorf("load: %w", state.ErrOtherEnvironment):                                            ReasonStateOtherEnv,
		fmt.Errorf("load: %w", state.ErrExpired):                                                     ReasonStateExpired,
		fmt.Errorf("load: %w", state.ErrConflict):                                                    ReasonStateConflict,
		fmt.Errorf("get: %w", &github.ErrorResponse{Response: &http.Response{StatusCode: 403}}):      ReasonGitHubAPI,
		fmt.Errorf("get: %w", &url.Error{Op: "Get", URL: "x", Err: errString("connection refused")}): ReasonGitHubAPI,
		fmt.Errorf("x: %w", deploy.ErrLocked):                                                        ReasonLockHeld,
		fmt.Errorf("x: %w", artifacts.ErrExpired):                                                    ReasonPlanExpired,
		&deploy.CallError{Adapter: "a", Method: "plan", Err: deploy.ErrAdapterExited}:                ReasonAdapterFailed,
		fail(ReasonFailOn, "", errString("x")):                                                       ReasonFailOn,
		// A garbled answer that reached a decoder (not through the
		// transport) is GitHub's too.
		fmt.Errorf("list artifacts: %w", ghclient.ErrGarbled):                                 ReasonGitHubAPI,
		fmt.Errorf("x: %w", &github.ErrorResponse{Response: &http.Response{StatusCode: 503}}): ReasonGitHubAPI,
	}
	for err, want := range cases {
		if got, _ := Classify(err); got != want {
			t.Errorf("%v: got %s, want %s", err, got, want)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// TestEveryReasonHasAHint: whatever wraps it, a failure never ends on an
// empty "what to do".
func TestEveryReasonHasAHint(t *testing.T) {
	src, err := os.ReadFile("failure.go")
	if err != nil {
		t.Fatal(err)
	}
	reasons := regexp.MustCompile(`Reason\w+\s*=\s*"([a-z-]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(reasons) < 20 {
		t.Fatalf("found %d reasons: the scan is broken", len(reasons))
	}
	for _, m := range reasons {
		reason := m[1]
		if _, hint := Classify(fail(reason, "", errString("x"))); hint == "" && reasonHints[reason] == "" {
			// Reasons always made with their own hint are listed by
			// the call sites; the others need one in reasonHints.
			if !hintedAtEveryCallSite(t, reason) {
				t.Errorf("%s can end with an empty hint: add it to reasonHints", reason)
			}
		}
	}
}

// hintedAtEveryCallSite: every fail/failf/failCall of the reason's constant
// in this package passes a non-empty hint.
func hintedAtEveryCallSite(t *testing.T, reason string) bool {
	files, _ := filepath.Glob("*.go")
	name := ""
	src, _ := os.ReadFile("failure.go")
	if m := regexp.MustCompile(`(Reason\w+)\s*=\s*"` + regexp.QuoteMeta(reason) + `"`).FindStringSubmatch(string(src)); m != nil {
		name = m[1]
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, _ := os.ReadFile(f)
		if regexp.MustCompile(`fail\w*\(` + name + `, ""`).Match(b) {
			return false
		}
	}
	return true
}

// TestPlanIDMatchesMarshal: the plan id is the digest of json.Marshal of
// the input with its changes sorted, as it always was, for inputs full of
// what JSON escapes (HTML, quotes, control bytes, U+2028, invalid UTF-8),
// empty details (omitted) and no changes at all.
func TestPlanIDMatchesMarshal(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	pieces := []string{"", "a", "<b>&", `"q"`, `\`, "\n\t\x01", "\u2028", "é", "\xff", "prompt/x"}
	str := func() string {
		var b strings.Builder
		for n := r.Intn(4); n > 0; n-- {
			b.WriteString(pieces[r.Intn(len(pieces))])
		}
		return b.String()
	}
	for i := 0; i < 2000; i++ {
		in := PlanIDInput{PackChecksum: str(), DeployConfig: str(), Environment: str(), PriorStateDigest: str(), Provider: str(), AdapterName: str(), AdapterVersion: str()}
		for n := r.Intn(6); n > 0; n-- {
			in.Changes = append(in.Changes, deploy.ResourceChange{Type: str(), Name: str(), Action: deploy.Action(str()), Detail: str()})
		}
		want := in
		want.Changes = SortedChanges(in.Changes)
		b, _ := json.Marshal(want)
		sum := sha256.Sum256(b)
		if got := PlanID(in); got != hex.EncodeToString(sum[:]) {
			t.Fatalf("%+v: plan id %s, digest of json.Marshal %x", in, got, sum)
		}
	}
	// A plan of 5,000 changes in the adapter's order, some alike.
	in := PlanIDInput{PackChecksum: "sha256:x"}
	for i := range 5000 {
		in.Changes = append(in.Changes, deploy.ResourceChange{Type: []string{"prompt", "pack"}[i%2], Name: fmt.Sprint(r.Intn(3000)), Action: deploy.Action(str()), Detail: str()})
	}
	want := in
	want.Changes = SortedChanges(in.Changes)
	b, _ := json.Marshal(want)
	if sum := sha256.Sum256(b); PlanID(in) != hex.EncodeToString(sum[:]) {
		t.Fatal("plan id of 5,000 changes: not the digest of json.Marshal")
	}
}
