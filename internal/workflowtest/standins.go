package workflowtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
	"github.com/arena-deploy/arena-deploy-action/internal/ghexpr"
)

// StandIn runs a third-party action (`uses: owner/name@ref`) in the
// harness: its declared inputs with their defaults (expressions allowed),
// and what it does, in Go. A stand-in does what the real action does to
// the things the workflow and the action under test can see (files in the
// workspace, outputs, GitHub's state through the emulator, with the job's
// token); nothing else.
type StandIn struct {
	Inputs map[string]string
	// Run does the work; it may set outputs with SetOutput.
	Run func(s *StandInStep) error
}

// StandInStep is one run of a stand-in.
type StandInStep struct {
	H      *Harness
	Job    *JobRun
	Uses   string
	Inputs map[string]string
	// Env is the step's environment (its variables and the runner's).
	Env       map[string]string
	Workspace string
	Log       *bytes.Buffer
	outputs   map[string]string
}

// SetOutput sets one of the step's outputs.
func (s *StandInStep) SetOutput(name, value string) { s.outputs[name] = value }

// API calls the emulator's REST API with the step's token input (as the
// real action's requests would go: permissions checked, recorded for the
// job); body, if not nil, is sent as JSON.
func (s *StandInStep) API(method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.H.GH.URL+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+s.Inputs["token"])
	req.Header.Set("Accept", "application/vnd.github+json")
	return s.H.GH.Client().Do(req)
}

func (s StandIn) run(jr *jobRun, uses string, full *ghexpr.Env, with, stepEnv, runner map[string]string, f stepFiles) error {
	order := make([]string, 0, len(s.Inputs))
	for k := range s.Inputs {
		order = append(order, k)
	}
	inputs, err := resolveInputs(s.Inputs, order, with, full)
	if err != nil {
		return err
	}
	env := actionEnv(stepEnv, runner)
	st := &StandInStep{H: jr.h, Job: jr.JobRun, Uses: uses, Inputs: inputs, Env: env, Workspace: jr.dirs.workspace,
		Log: &bytes.Buffer{}, outputs: map[string]string{}}
	err = s.Run(st)
	jr.logf("%s", st.Log.String())
	if err != nil {
		return err
	}
	var out strings.Builder
	for k, v := range st.outputs {
		fmt.Fprintf(&out, "%s<<ghadelimiter_standin\n%s\nghadelimiter_standin\n", k, v)
	}
	return os.WriteFile(f.output, []byte(out.String()), 0o644)
}

// DefaultStandIns are the stand-ins every harness has.
func DefaultStandIns() map[string]StandIn {
	return map[string]StandIn{"actions/checkout": Checkout, strings.ToLower(PromptArenaAction): PromptArena, GitHubAppTokenAction: GitHubAppToken}
}

// Checkout stands in for actions/checkout: it fetches the commit with the
// given token (so a job without contents: read fails, as cloning a private
// repository does) and writes its files into the workspace (or path),
// cleaning what was there. ref defaults to the event's commit (for a pull
// request, refs/pull/N/merge); a branch name checks out its head.
var Checkout = StandIn{
	Inputs: map[string]string{
		"repository": "${{ github.repository }}", "ref": "", "token": "${{ github.token }}", "ssh-key": "",
		"ssh-known-hosts": "", "ssh-strict": "true", "ssh-user": "git", "persist-credentials": "true", "path": "",
		"clean": "true", "filter": "", "sparse-checkout": "", "sparse-checkout-cone-mode": "true", "fetch-depth": "1",
		"fetch-tags": "false", "show-progress": "true", "lfs": "false", "submodules": "false", "set-safe-directory": "true",
		"github-server-url": "",
	},
	Run: func(s *StandInStep) error {
		if s.Inputs["repository"] != ghemu.DefaultOwner+"/"+ghemu.DefaultRepo {
			return fmt.Errorf("checkout of %s: the harness has one repository, %s/%s", s.Inputs["repository"], ghemu.DefaultOwner, ghemu.DefaultRepo)
		}
		sha := s.Env["GITHUB_SHA"]
		if ref := s.Inputs["ref"]; ref != "" {
			sha = ref
			if head := s.H.GH.Head(strings.TrimPrefix(ref, "refs/heads/")); head != "" {
				sha = head
			}
		}
		resp, err := s.API("GET", fmt.Sprintf("/repos/%s/git/commits/%s", s.Inputs["repository"], sha), nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("fetch %s with the job's token: %s (remote: Repository not found, or the token lacks contents: read)", sha, resp.Status)
		}
		files, ok := s.H.GH.Tree(sha)
		if !ok {
			return fmt.Errorf("no commit %s", sha)
		}
		dir := filepath.Join(s.Workspace, s.Inputs["path"])
		if s.Inputs["clean"] == "true" {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
					return err
				}
			}
		}
		for p, b := range files {
			dst := filepath.Join(dir, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			mode := os.FileMode(0o644)
			if bytes.HasPrefix(b, []byte("#!")) {
				mode = 0o755
			}
			if err := os.WriteFile(dst, b, mode); err != nil {
				return err
			}
		}
		fmt.Fprintf(s.Log, "Checked out %s (%d files) into %s\n", sha, len(files), dir)
		return nil
	},
}
