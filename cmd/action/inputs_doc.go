// Code generated from action.yml by TestInputDocsFromActionYML -update. DO NOT EDIT.

package main

// inputDocs are action.yml's input descriptions: the CLI's flag help.
var inputDocs = map[string]string{
	"adapter":                   "Explicit path of the adapter binary, relative to working-directory (otherwise .promptarena/adapters/, ~/.promptarena/adapters/, then PATH).",
	"adapter-allow-unverified":  "Run an installed adapter that has neither adapter-sha256 nor a checksums file in its release.",
	"adapter-install":           "Install an adapter from GitHub Releases before running: <provider>[@<version>], e.g. omnia@1.4.0.",
	"adapter-oidc":              "Pass the OIDC request variables (ACTIONS_ID_TOKEN_REQUEST_TOKEN and _URL, present with id-token write) to the adapter, so it can exchange a GitHub identity token for cloud credentials.",
	"adapter-repo":              "Release repository (owner/name) of the adapter, for providers not in the built-in list.",
	"adapter-sha256":            "Expected sha256 of the adapter binary (pins it).",
	"adapter-timeout":           "Longest wait for one adapter call before the adapter (and every process it started) is killed and the run fails adapter-failed. Empty for the defaults (10s for get_provider_info, the handshake, and 30s for validate_config: a program that is not an adapter fails in seconds; 5m for status and import; 30m for plan, apply and destroy); one duration for every call (e.g. 10m); or call=duration pairs (e.g. \"plan=45m, apply=1h\"), after an optional duration for the rest.",
	"allow-adapter-change":      "Apply even if the adapter binary differs from the one that made the plan.",
	"allow-pull-request-target": "Plan on pull_request_target events (refused by default: such runs have a write token and secrets, and must never run a pull request's code). Their plans are for review only, never applied on merge.",
	"command":                   "What to do: auto (plan on pull_request, apply on push), plan, apply, status, refresh or destroy.",
	"comment":                   "Post and update one sticky pull request comment per target.",
	"config":                    "Path of arena.yaml, relative to working-directory.",
	"confirm-destroy":           "Must equal the environment's name for destroy to run.",
	"create-deployment":         "On apply, record a GitHub Deployment of the merge commit to the environment, with in_progress, success or failure statuses linking the run's log and environment-url. For jobs without environment:; needs deployments: write.",
	"drift-issue":               "With refresh, keep one issue labelled arena-drift per environment open while drift lasts.",
	"environment":               "Environment of arena.yaml's deploy section to deploy to.",
	"fail-on":                   "Fail the plan job if the plan contains these actions, comma-separated: create, update, delete, drift.",
	"fail-on-drift":             "With refresh, fail when any resource drifted.",
	"github-token":              "Token for comments, artifacts and state commits.",
	"lock-timeout":              "How long to wait for the deploy lock (e.g. 30s), which is held across runners on the state store; 0s fails at once when it is held.",
	"mask-env":                  "Names of environment variables (comma- or line-separated) whose values are secrets to mask everywhere, whatever their names; variables whose names look secret (TOKEN, SECRET, PASSWORD, KEY, AUTH, ...) are masked without being listed.",
	"on-missing-plan":           "On a push with no reviewed plan (a direct push): fail, or plan-and-apply.",
	"on-stale-plan":             "When the deployed state changed since the review and the plan changed with it: fail, or replan (apply the new plan).",
	"pack":                      "Path of the compiled pack (*.pack.json), relative to working-directory. Default is the only *.pack.json there.",
	"retention-days":            "Days to keep plan and state artifacts (1-90). Default is the repository's setting.",
	"state-backend":             "Where deploy state lives: git (a committed file), artifact (a workflow artifact) or file (local only).",
	"state-branch":              "Branch that holds each target's state and deploy lock (git backend; the artifact backend locks there when it may). Created on first use as an orphan branch. Empty: the checked-out branch, at state-path.",
	"state-path":                "State file path relative to working-directory (git and file backends). Use one per environment.",
	"working-directory":         "The arena project's directory, relative to the repository root.",
}
