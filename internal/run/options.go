// Package run carries out one command of the action (plan, apply, status,
// refresh, destroy) from explicit options: it owns the order of the steps
// and leaves each step to a package that does one thing.
package run

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/evalgate"
	"github.com/arena-deploy/arena-deploy-action/internal/report"
	"github.com/arena-deploy/arena-deploy-action/internal/surface"
)

// Commands.
const (
	CommandAuto     = "auto"
	CommandPlan     = "plan"
	CommandApply    = "apply"
	CommandStatus   = "status"
	CommandRefresh  = "refresh"
	CommandDestroy  = "destroy"
	CommandAdopt    = "adopt"
	CommandTargets  = "targets"
	CommandPreview  = "preview"
	CommandUnlock   = "unlock"
	CommandRollback = "rollback"
)

// Options are the resolved inputs of one run. The zero value of each field
// means its documented default.
type Options struct {
	Command     string
	Environment string
	ConfigPath  string // relative to WorkDir
	PackPath    string // relative to WorkDir; empty: the only *.pack.json
	WorkDir     string // absolute
	// Workspace is the fence (GITHUB_WORKSPACE, or the CLI's working
	// directory): every path from an input or arena.yaml must resolve
	// inside it. Empty: WorkDir.
	Workspace   string
	WorkDirRel  string // WorkDir relative to the repository root, for state paths and markers
	AdapterPath string
	Comment     bool
	// ReviewOnly, when set, says why this plan must not be applied on
	// merge (a fork, merge_group, pull_request_target): it is not uploaded
	// as the artifact apply trusts, and the report says so.
	ReviewOnly    string
	FailOn        []deploy.Action
	RetentionDays int
	StateBackend  string // git | artifact | file
	StatePath     string // relative to WorkDir
	// StateBranch holds every target's state (git backend; the lock of the
	// artifact backend); empty: the checked-out branch, at StatePath.
	StateBranch   string
	OnMissingPlan string // fail | plan-and-apply
	OnStalePlan   string // fail | replan
	Confirm       string // confirm-destroy
	// ConfirmUnlock must name the environment for unlock; ForceUnlock
	// frees a lock whose run is still in progress.
	ConfirmUnlock string
	ForceUnlock   bool
	// Rollback are command rollback's inputs.
	Rollback RollbackOptions
	// Notify says where and when to notify people (notify-webhook).
	Notify NotifyOptions
	// ConfirmAdopt (confirm-adopt) and AdoptReason (adopt-reason): adopt
	// runs only when the first names the environment, and records the
	// second.
	ConfirmAdopt, AdoptReason string
	DriftIssue                bool
	FailOnDrift               bool
	AllowAdapterChange        bool
	// CreateDeployment records each apply as a GitHub Deployment with
	// statuses (create-deployment).
	CreateDeployment bool
	// adapter-install: <provider>[@<version>], its repository override,
	// pinned digest, and whether an unverifiable binary may run.
	AdapterInstall         string
	AdapterRepo            string
	AdapterSHA256          string
	AdapterAllowUnverified bool
	OS, Arch               string // of the runner, for release assets
	LockWait               time.Duration
	// AdapterTimeouts bound each adapter call (adapter-timeout); nil:
	// the defaults.
	AdapterTimeouts deploy.Timeouts
	// AdapterEnv is the adapter's environment: the runner's, without the
	// GitHub token and the runtime token, and without the OIDC request
	// variables unless AdapterOIDC (adapter-oidc) allows them.
	AdapterEnv  []string
	AdapterOIDC bool
	HomeDir     string
	PathEnv     string
	// RunnerTemp is RUNNER_TEMP: not mounted into the docker action's
	// container, so an adapter input under it gets its own message.
	RunnerTemp string
	Version    string // of this action
	// Targets are the targets command's inputs.
	Targets TargetsOptions
	// Surface is where the inputs were set: hints name them as a
	// workflow's inputs (the zero value) or as the CLI's flags.
	Surface surface.Surface
	// LocalUser is who runs the CLI (USER, else LOGNAME): named as the
	// one who overrode an evaluation gate outside GitHub Actions.
	LocalUser string
	// Preview is set for command preview: the pull request whose preview
	// environment (Environment, pr-<number>) the run deploys or destroys.
	Preview *PreviewOptions
	// Evaluations names the evaluation results an earlier step wrote (a
	// folder or file, relative to WorkDir); empty: none.
	Evaluations string
	// EvaluationPolicy says what in them blocks an apply.
	EvaluationPolicy evalgate.Policy
	// EvaluationOverride, when set, is why an apply goes ahead although
	// the policy blocks it; the run's actor is who.
	EvaluationOverride string
}

// GitHubContext is what the run knows of the workflow run and its event.
type GitHubContext struct {
	Owner, Repo   string
	EventName     string
	SHA           string // GITHUB_SHA
	Ref           string
	PRNumber      int
	HeadSHA       string // the PR head, not the test-merge commit
	BaseSHA       string
	BaseRef       string
	HeadRepo      string // full name of the PR head repository
	HeadCommitMsg string // push: the head commit message
	RunID         int64
	RunAttempt    int
	ServerURL     string
	Actor         string // GITHUB_ACTOR: who started the run
	// TriggeringActor is GITHUB_TRIGGERING_ACTOR: who started this
	// attempt (a re-run's), when it differs.
	TriggeringActor string
	Before          string // push, and a pull request's synchronize: the commit before this push
	// PRAction is the pull_request event's activity (opened, synchronize,
	// reopened, closed, ...).
	PRAction      string
	DefaultBranch string // from the event's repository, when it says
}

// RunURL links the workflow run.
func (g *GitHubContext) RunURL() string {
	if g == nil || g.RunID == 0 {
		return ""
	}
	return g.ServerURL + "/" + g.Owner + "/" + g.Repo + "/actions/runs/" + itoa64(g.RunID)
}

// Reporter is where a run reports: the workflow log, outputs, masks and
// the job summary. cmd/action hands in a report.Publisher, which masks
// everything on its way to the runner (or the terminal).
type Reporter = report.Sink

// Deps are the run's collaborators. GitHub nil means no GitHub: a plain CLI
// run that keeps plans and state in the project directory.
type Deps struct {
	GitHub *github.Client
	// StateGitHub is the client of the git state backend: a client of its
	// own, so that go-github's memory of a rate limit met by another call
	// cannot refuse the state write after a deploy. Nil: GitHub.
	StateGitHub *github.Client
	GH          *GitHubContext
	// Uploader uploads artifacts of this run; nil when the runner gives no
	// artifact service.
	Uploader artifactUploader
	// NoArtifactService says why a run in GitHub Actions has no Uploader
	// (GitHub Enterprise Server before 3.13 has no ACTIONS_RESULTS_URL).
	// Nil outside GitHub Actions, where plans are kept in the project.
	NoArtifactService error
	// Releases looks up adapter releases (adapter-install); nil: GitHub.
	// The CLI has this client alone: it reads nothing else on GitHub.
	Releases *github.Client
	// BlobClient fetches signed URLs (never carries the token).
	BlobClient *http.Client
	Report     Reporter
	// Log receives the adapter's stderr, masked.
	Log io.Writer
	Now func() time.Time
	// Sleep waits between retries (tests make it instant).
	Sleep func(context.Context, time.Duration) error
	// Grace is how long the state write after a deploy and the final report
	// may still take once the run is cancelled (0: grace.Default).
	Grace time.Duration
}
