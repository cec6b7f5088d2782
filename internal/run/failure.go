package run

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/arena-deploy/arena-deploy-action/internal/adapterinstall"
	"github.com/arena-deploy/arena-deploy-action/internal/arenacfg"
	"github.com/arena-deploy/arena-deploy-action/internal/arenaschema"

	"github.com/arena-deploy/arena-deploy-action/internal/artifacts"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/evalgate"
	"github.com/arena-deploy/arena-deploy-action/internal/evalresults"
	"github.com/arena-deploy/arena-deploy-action/internal/ghclient"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
	"github.com/arena-deploy/arena-deploy-action/internal/surface"
	"github.com/arena-deploy/arena-deploy-action/internal/workspace"
)

// Failure reasons: the failure-reason output. Users branch on them in
// workflows, so they are a public contract.
const (
	ReasonConfigNotFound  = "config-not-found"
	ReasonNoDeploySection = "no-deploy-section"
	// ReasonUnknownEnv is no longer set: an environment missing from
	// deploy.environments plans with the base config and a warning, as
	// promptarena does. Kept so the documented name stays reserved.
	ReasonUnknownEnv       = "unknown-environment"
	ReasonArenaConfig      = "invalid-arena-config"
	ReasonPackNotFound     = "pack-not-found"
	ReasonAdapterNotFound  = "adapter-not-found"
	ReasonAdapterFailed    = "adapter-failed"
	ReasonInvalidConfig    = "invalid-config"
	ReasonPlanFailed       = "plan-failed"
	ReasonApplyFailed      = "apply-failed"
	ReasonStateCorrupt     = "state-corrupt"
	ReasonLockHeld         = "lock-held"
	ReasonGitHubAPI        = "github-api-error"
	ReasonArtifactUpload   = "artifact-upload-failed"
	ReasonFailOn           = "fail-on"
	ReasonInvalidInput     = "invalid-input"
	ReasonPlanNotFound     = "plan-not-found"
	ReasonPlanExpired      = "plan-expired"
	ReasonPackMismatch     = "pack-mismatch"
	ReasonEnvMismatch      = "environment-mismatch"
	ReasonConfigChanged    = "config-changed"
	ReasonAdapterChanged   = "adapter-changed"
	ReasonStateChanged     = "state-changed"
	ReasonStateConflict    = "state-conflict"
	ReasonStateNotWritable = "state-not-writable"
	ReasonSuperseded       = "superseded"
	ReasonDriftDetected    = "drift-detected"
	ReasonDestroyRefused   = "destroy-not-confirmed"
	ReasonUnlockRefused    = "unlock-not-confirmed"
	// ReasonRollbackRefused: rollback without confirm-rollback naming the
	// environment.
	ReasonRollbackRefused = "rollback-not-confirmed"
	// ReasonRollbackNotFound: no earlier apply to restore, or not the one
	// rollback-to names.
	ReasonRollbackNotFound = "rollback-not-found"
	// ReasonRollbackUnproven: the pack a rollback would restore is not
	// proven to be the one that apply deployed.
	ReasonRollbackUnproven = "rollback-unproven"
	// ReasonStateUntrusted: the stored state is not proven to come from a
	// trusted run (a witness; internal/state), so it is not used.
	ReasonStateUntrusted = "state-untrusted"
	// ReasonAdoptRefused: adopt without confirm-adopt naming the
	// environment, or without adopt-reason.
	ReasonAdoptRefused    = "adopt-not-confirmed"
	ReasonInternal        = "internal-error"
	ReasonAdapterInstall  = "adapter-install-failed"
	ReasonAdapterChecksum = "adapter-checksum-mismatch"
	ReasonAdapterUnverif  = "adapter-unverified"
	ReasonStateOtherEnv   = "state-other-environment"
	ReasonStateExpired    = "state-expired"
	ReasonPackTooLarge    = "pack-too-large"
	ReasonPackInvalid     = "pack-invalid"
	// ReasonMethodNotSupported: the adapter does not offer the command
	// (it answered -32601): Vertex has neither status nor destroy.
	ReasonMethodNotSupported = "method-not-supported"
	// Evaluation results (evaluations input) and the gate.
	ReasonEvalMissing   = "evaluation-results-missing"
	ReasonEvalInvalid   = "evaluation-results-invalid"
	ReasonEvalUnbound   = "evaluation-results-untrusted"
	ReasonEvalOtherPack = "evaluation-pack-mismatch"
	ReasonEvalBlocked   = "evaluation-blocked"
)

// Failure reasons of runs that GitHub leaves without an artifact service,
// and of cancelled runs.
const (
	ReasonArtifactService = "artifact-service-unavailable"
	ReasonCancelled       = "cancelled"
)

// Failure is an error with its failure-reason and what to do about it.
type Failure struct {
	Reason string
	Hint   string
	Err    error
}

// Error implements error.
func (f *Failure) Error() string {
	if f.Hint == "" {
		return f.Err.Error()
	}
	return f.Err.Error() + "\n" + f.Hint
}

// Unwrap returns the cause.
func (f *Failure) Unwrap() error { return f.Err }

// failCall is fail for an adapter call, unless the request never left
// because it was too large for the adapter, the program is no adapter, or
// the call timed out: those have their own reason and cure, whichever step
// sent it.
func (s *session) failCall(reason, hint string, err error) error {
	if errors.Is(err, deploy.ErrNotAdapter) {
		return fail(ReasonAdapterFailed, hintNotAdapter(s.o.Surface), err)
	}
	if errors.Is(err, deploy.ErrTimedOut) {
		return fail(ReasonAdapterFailed, hintTimedOut(s.o.Surface), err)
	}
	var tooLarge *deploy.RequestTooLargeError
	if errors.As(err, &tooLarge) {
		return fail(ReasonPackTooLarge, "Nothing was sent to the adapter. Split the pack into smaller packs (one per agent or group of prompts), "+
			"or use an adapter that reads longer lines and declares it in its provider info capabilities ("+deploy.CapabilityMaxRequestPrefix+
			"<bytes>; adapters built on this project's SDK read 64 MiB).", err)
	}
	return fail(reason, hint, err)
}

// notOffered is the failure of a command the adapter does not offer: it
// answered the command's request with -32601 (method not found). command
// is what the user ran (status, refresh, destroy, import); the message
// names the adapter ("the compat adapter (promptarena-deploy-compat
// 1.5.9)") and the request it refused.
func notOffered(adapter, command string, err error) error {
	method := command
	var call *deploy.CallError
	if errors.As(err, &call) {
		method = call.Method
	}
	hint := notOfferedHints[command]
	if hint == "" {
		hint = reasonHints[ReasonMethodNotSupported]
	}
	return &Failure{Reason: ReasonMethodNotSupported, Hint: hint,
		Err: fmt.Errorf("%s does not offer %s: it answered the %s request with -32601 (method not found): %w", adapter, command, method, err)}
}

// notOfferedHints say what to do instead, per command.
var notOfferedHints = map[string]string{
	"status":  "Nothing was changed. This adapter cannot report the deployment's health; look at it in the provider's console. plan and apply still work (they plan against the stored state, as promptarena does).",
	"refresh": "Nothing was changed. This adapter cannot report the deployment's health, so drift cannot be checked: remove the scheduled refresh for this target, and look at the deployment in the provider's console.",
	"destroy": "Nothing was destroyed and the state was kept. Remove the deployment with the provider's own tools (its console or CLI), then delete the state.",
	"import":  "Nothing was imported. Create the resources through plan and apply instead.",
}

func fail(reason, hint string, err error) error {
	return &Failure{Reason: reason, Hint: hint, Err: err}
}

// hintAdapterFailed is the hint of an adapter that crashed or misbehaved.
const hintAdapterFailed = "The adapter failed; its stderr is above. Check its config and credentials, then re-run."

// hintNotAdapter is the hint of a program that did not answer the
// handshake as an adapter does.
func hintNotAdapter(on surface.Surface) string {
	return "Point " + on.Input("adapter") + " at the provider's adapter (promptarena-deploy-<provider>), or leave it out to find " +
		"the adapter in .promptarena/adapters/, ~/.promptarena/adapters/ or PATH. If it is an adapter that needs longer to start, raise " +
		on.Name("adapter-timeout") + " (e.g. " + on.Setting("adapter-timeout", "get_provider_info=1m") + ")."
}

// hintAdapterNotFound says how to get the adapter that was not found.
func hintAdapterNotFound(e *deploy.AdapterNotFoundError, on surface.Surface) string {
	if e.Explicit != "" {
		return "Fix " + on.Input("adapter") + " (relative to " + on.Name("working-directory") + "), or leave it out to search .promptarena/adapters/, ~/.promptarena/adapters/ and PATH."
	}
	install := "Build it and put it"
	if e.Installable {
		install = "Install it with " + on.Setting("adapter-install", e.Provider+"@<version>") + ", put it"
	}
	return install + " in .promptarena/adapters/ of the project, or " + on.SetLower("adapter", "<its path>") + " (relative to " + on.Name("working-directory") + ")."
}

// hintTimedOut is the hint of an adapter call that ran out of time.
func hintTimedOut(on surface.Surface) string {
	return "The adapter did not answer within " + on.Name("adapter-timeout") + " and was killed with every process it started. " +
		"If the call needs longer, raise " + on.Name("adapter-timeout") + " (e.g. " + on.Setting("adapter-timeout", "apply=1h") + "); otherwise find what it waits for in its stderr above."
}

func failf(reason, hint, format string, args ...any) error {
	return fail(reason, hint, fmt.Errorf(format, args...))
}

// capital is s with its first letter upper-case: a surface's words at the
// start of a sentence.
func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Classify maps any error to its failure reason and hint: the one place
// where errors become the failure-reason output. Hints name inputs as a
// workflow sets them; ClassifyOn names them for another surface.
func Classify(err error) (reason, hint string) { return ClassifyOn(err, surface.Workflow) }

// ClassifyOn is Classify with hints that name inputs as on sets them
// (--confirm-destroy production on the CLI).
func ClassifyOn(err error, on surface.Surface) (reason, hint string) {
	reason, hint = classify(err, on)
	if hint == "" {
		hint = reasonHint(reason, on)
	}
	return reason, hint
}

// reasonHint is the hint of a reason whose error carries none.
func reasonHint(reason string, on surface.Surface) string {
	if h, ok := inputHints[reason]; ok {
		return h(on)
	}
	return reasonHints[reason]
}

// inputHints are the reason hints that name inputs: said in the words of
// the surface (a workflow's input, the CLI's flag).
var inputHints = map[string]func(on surface.Surface) string{
	ReasonEvalBlocked: func(on surface.Surface) string {
		if on == surface.CLI {
			return "Fix the failing cases and evaluate again; or, when deploying anyway is right, pass --evaluation-override <the reason> (the report and the outputs say it)."
		}
		return reasonHints[ReasonEvalBlocked]
	},
	ReasonAdapterUnverif: func(on surface.Surface) string {
		return "Pin the binary with " + on.Name("adapter-sha256") + " (its sha256 from a source you trust), or " + on.SetLower("adapter-allow-unverified", "true") + " to run it anyway."
	},
	ReasonAdapterChanged: func(on surface.Surface) string {
		return "Use the same adapter for plan and apply: pin " + on.Name("adapter-install") + " with a version and " + on.Name("adapter-sha256") +
			", or " + on.SetLower("allow-adapter-change", "true") + "."
	},
	ReasonAdapterInstall: func(on surface.Surface) string {
		return "Check " + on.Name("adapter-install") + " (provider@version) and " + on.Name("adapter-repo") + "; on a rate limit, re-run after the time the message gives."
	},
	ReasonConfigNotFound: func(on surface.Surface) string {
		return "Set " + on.Name("config") + " (relative to " + on.Name("working-directory") + ") to the arena file, or " +
			on.Name("working-directory") + " to the project holding arena.yaml."
	},
	ReasonInvalidInput: func(on surface.Surface) string {
		return "Fix the input the message names; " + on.Inputs() + " lists the allowed values."
	},
	ReasonPackNotFound: func(on surface.Surface) string {
		return "Compile the pack with packc (or commit it), or set " + on.Name("pack") + " to its path."
	},
	ReasonAdapterNotFound: func(on surface.Surface) string {
		return "Install the adapter (" + on.Name("adapter-install") + " for released providers), put it in .promptarena/adapters/, or set " +
			on.Name("adapter") + " to its path."
	},
	ReasonLockHeld: func(on surface.Surface) string {
		return "Another deploy of this target is running: let it finish, or set " + on.Name("lock-timeout") +
			" to wait for it. The lock of a run that has ended is taken over at once; command unlock frees a stuck one."
	},
	ReasonStateOtherEnv: hintStateOtherEnv,
}

func hintStateOtherEnv(on surface.Surface) string {
	if on == surface.CLI {
		// The CLI keeps one state per project, as promptarena does: a
		// second environment needs a file of its own.
		return "Give each environment its own --state-path, e.g. --state-path .promptarena/<environment>.state (the default, .promptarena/deploy.state, is one per project, as promptarena keeps it)."
	}
	return "Give each environment its own " + on.Name("state-path") + "."
}

// reasonHints are what to do for reasons whose error message names the
// place but not always the way out: no report ends on an empty hint.
var reasonHints = map[string]string{
	ReasonNoDeploySection: "Add spec.deploy with at least provider: <name> to the arena file (arena-deploy-action's README: Quickstart).",
	ReasonArenaConfig:     "Fix the arena file at the place the message gives; promptarena would refuse it too.",
	ReasonStateCorrupt:    "Restore the state file from git history (git log -p -- <path>) or an arena-state artifact. Do not delete it: it is the record of what is deployed.",
	ReasonPlanExpired:     "Re-run the pull request's plan job, then this job; raise retention-days so plans outlive reviews.",
	ReasonStateExpired:    "Restore the state from an arena-state-<env>-<target>-<sha> artifact, or switch to the state branch; schedule refresh runs so it never expires.",
	ReasonPackInvalid:     "Commit the pack as packc compile writes it: one JSON object, UTF-8.",
	ReasonGitHubAPI:       "Check the token's permissions (arena-deploy-action's docs/permissions.md) and GitHub's status, then re-run.",
	ReasonInternal:        "This is a bug in arena-deploy-action if it persists; please report it with the log.",
	ReasonStateUntrusted:  "Nothing was deployed. Check the state the message names; if it is what is deployed, run command: adopt with confirm-adopt: <environment> and adopt-reason (docs/security.md).",
	ReasonAdoptRefused:    "Check the state, then set confirm-adopt to the environment's name and adopt-reason to why it is right.",
	ReasonMethodNotSupported: "The adapter does not offer this command (it answered -32601, method not found); use the provider's own tools for it. " +
		"Nothing was changed.",
	ReasonEvalMissing: "Run the evaluation (promptarena's test action, or promptarena run --ci --format json,junit --out <folder>) in an earlier step of this job, " +
		"for pull requests and for merges, and set evaluations to the folder it writes (docs/evaluations.md).",
	ReasonEvalInvalid: "Point evaluations at the folder promptarena run --out writes (it holds index.json), its index.json, or a JUnit XML file, " +
		"and check that the step writing them succeeded and ran something.",
	ReasonEvalUnbound: "Write the results in an earlier step of this job, after the checkout, into a folder that is not committed (add it to .gitignore).",
	ReasonEvalOtherPack: "Compile the pack again from the prompts the evaluation ran (packc), commit it, and evaluate again; " +
		"or point evaluations at the results of this pack's prompts.",
	ReasonEvalBlocked: "Fix the failing cases and merge the fix; or, when deploying anyway is right, run the workflow with evaluation-override " +
		"set to the reason (it is recorded with the state and on the pull request).",
}

func classify(err error, on surface.Surface) (reason, hint string) {
	var f *Failure
	if errors.As(err, &f) {
		return f.Reason, f.Hint
	}
	var call *deploy.CallError
	var several *deploy.SeveralPacksError
	var noAdapter *deploy.AdapterNotFoundError
	switch {
	case errors.Is(err, context.Canceled):
		return ReasonCancelled, "The run was cancelled. The comment and the summary say what was done; re-run the job to finish."
	case errors.Is(err, adapterinstall.ErrChecksumMismatch):
		return ReasonAdapterChecksum, "The downloaded adapter is not the published one: do not run it. Check the release, or the adapter-sha256 you pinned."
	case errors.Is(err, adapterinstall.ErrUnverified):
		return ReasonAdapterUnverif, ""
	case errors.Is(err, adapterinstall.ErrVersionChanged):
		return ReasonAdapterChanged, ""
	case errors.Is(err, adapterinstall.ErrUnknownProvider), errors.Is(err, adapterinstall.ErrNotFound), errors.Is(err, adapterinstall.ErrRateLimited):
		return ReasonAdapterInstall, ""
	case errors.Is(err, workspace.ErrOutside):
		return ReasonInvalidInput, "Keep " + on.Name("config") + ", " + on.Name("pack") + ", " + on.Name("working-directory") + ", " + on.Name("state-path") +
			", the project's adapters and every file arena.yaml names inside the repository; a symlink must point inside it too (a relative link to a file of the checkout)."
	case errors.Is(err, deploy.ErrConfigNotFound):
		return ReasonConfigNotFound, ""
	case errors.Is(err, deploy.ErrNoDeploySection):
		return ReasonNoDeploySection, ""
	case errors.Is(err, deploy.ErrConfigIsDir):
		return ReasonInvalidInput, "Set " + on.Name("config") + " to the arena file (relative to " + on.Name("working-directory") + "), not its directory."
	case errors.Is(err, deploy.ErrArenaInvalid):
		return ReasonArenaConfig, ""
	case errors.Is(err, arenaschema.ErrInvalid):
		return ReasonArenaConfig, "Fix each place listed (file:line:column): promptarena refuses these files too. The schemas are promptarena's v1alpha1 (docs/compatibility.md)."
	case errors.Is(err, arenacfg.ErrInvalid):
		return ReasonArenaConfig, "Fix that reference in the arena file: promptarena refuses this config too. Every file it names must exist, parse, and be inside the repository."
	case errors.As(err, &several):
		return ReasonPackNotFound, "Pick the one to deploy with " + on.Setting("pack", several.Names[0]) + " (or another of those named)."
	case errors.Is(err, deploy.ErrPackNotFound):
		return ReasonPackNotFound, ""
	case errors.As(err, &noAdapter):
		return ReasonAdapterNotFound, hintAdapterNotFound(noAdapter, on)
	case errors.Is(err, deploy.ErrAdapterNotFound):
		return ReasonAdapterNotFound, ""
	case errors.Is(err, deploy.ErrLocked):
		return ReasonLockHeld, ""
	case errors.Is(err, deploy.ErrCorrupt), errors.Is(err, deploy.ErrNewerVersion), errors.Is(err, evalgate.ErrBadBaseline):
		return ReasonStateCorrupt, ""
	case errors.Is(err, artifacts.ErrExpired):
		return ReasonPlanExpired, ""
	case errors.Is(err, state.ErrOtherEnvironment):
		return ReasonStateOtherEnv, hintStateOtherEnv(on)
	case errors.Is(err, state.ErrNotWritable):
		return ReasonStateNotWritable, notWritableHint
	case errors.Is(err, state.ErrConflict):
		return ReasonStateConflict, "Two runs wrote the state from the same one; the message says which to keep. A concurrency group per environment, or the deploy lock, prevents this."
	case errors.Is(err, state.ErrSuperseded):
		return ReasonSuperseded, ""
	case errors.Is(err, state.ErrExpired):
		return ReasonStateExpired, ""
	case errors.Is(err, state.ErrUntrusted):
		return ReasonStateUntrusted, ""
	case errors.Is(err, state.ErrWitnessUnreadable):
		return ReasonGitHubAPI, "Nothing was deployed. Give the job actions: read: every command but plan proves where the state came from by its witness artifacts (docs/permissions.md)."
	case errors.Is(err, deploy.ErrNotAdapter):
		return ReasonAdapterFailed, hintNotAdapter(on)
	case errors.Is(err, evalresults.ErrNotFound):
		return ReasonEvalMissing, ""
	case errors.Is(err, evalresults.ErrInvalid), errors.Is(err, evalresults.ErrEmpty), errors.Is(err, evalresults.ErrForeign):
		return ReasonEvalInvalid, ""
	case errors.Is(err, evalresults.ErrUnbound):
		return ReasonEvalUnbound, ""
	case errors.Is(err, evalresults.ErrOtherPack):
		return ReasonEvalOtherPack, ""
	case errors.Is(err, deploy.ErrTimedOut):
		return ReasonAdapterFailed, hintTimedOut(on)
	case errors.Is(err, deploy.ErrMethodNotSupported):
		return ReasonMethodNotSupported, ""
	case errors.As(err, &call):
		return ReasonAdapterFailed, hintAdapterFailed
	case ghclient.Untrusted(err):
		return ReasonGitHubAPI, "The server's TLS certificate is not trusted. Behind a private CA (GitHub Enterprise Server, a TLS-intercepting proxy) set SSL_CERT_FILE to a PEM file in the workspace (arena-deploy-action's docs/adapters.md: Private certificate authorities)."
	case errors.Is(err, ghclient.ErrGarbled), ghclient.Transient(err):
		if on == surface.CLI {
			return ReasonGitHubAPI, hintGitHubFailedCLI
		}
		return ReasonGitHubAPI, hintGitHubFailed
	case isGitHubError(err):
		return ReasonGitHubAPI, "Check the token's permissions (arena-deploy-action's docs/permissions.md) and GitHub's status, then re-run."
	}
	return ReasonInternal, "This is a bug in arena-deploy-action if it persists; please report it with the log."
}

// hintGitHubFailed is the hint of GitHub failing a call after its retries:
// no answer, a server error, an answer cut off or garbled.
const hintGitHubFailed = "GitHub did not answer, or answered with a server error or a garbled body, even after retries: " +
	"GitHub's failure (or a proxy's), not the workflow's. Re-run this job once GitHub is healthy (githubstatus.com); " +
	"on GitHub Enterprise Server, check that GITHUB_API_URL reaches it."

// hintGitHubFailedCLI is hintGitHubFailed at a terminal: the CLI asks
// GitHub only for an adapter's release, through the machine's network.
const hintGitHubFailedCLI = "GitHub did not answer, or answered with a server error or a garbled body, even after retries. " +
	"Run the command again once GitHub answers (githubstatus.com); behind a proxy, set HTTPS_PROXY; " +
	"for GitHub Enterprise Server, set GITHUB_API_URL to its API."

// githubFail is a failed GitHub call: the permission to check when GitHub
// refused it, or that GitHub failed when it did not answer properly.
func githubFail(permHint string, err error) error {
	if errors.Is(err, ghclient.ErrGarbled) || ghclient.Transient(err) {
		return fail(ReasonGitHubAPI, hintGitHubFailed, err)
	}
	return fail(ReasonGitHubAPI, permHint, err)
}

func isGitHubError(err error) bool {
	var er *github.ErrorResponse
	var rl *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	var ue *url.Error
	return errors.As(err, &er) || errors.As(err, &rl) || errors.As(err, &abuse) || errors.As(err, &ue)
}
