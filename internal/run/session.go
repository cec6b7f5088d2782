package run

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/arena-deploy/arena-deploy-action/internal/adaptercheck"
	"github.com/arena-deploy/arena-deploy-action/internal/adapterinstall"
	"github.com/arena-deploy/arena-deploy-action/internal/arenacfg"
	"github.com/arena-deploy/arena-deploy-action/internal/arenaschema"
	"github.com/arena-deploy/arena-deploy-action/internal/branchrules"
	"github.com/arena-deploy/arena-deploy-action/internal/comment"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/environment"
	"github.com/arena-deploy/arena-deploy-action/internal/mask"
	"github.com/arena-deploy/arena-deploy-action/internal/pack"
	"github.com/arena-deploy/arena-deploy-action/internal/preview"
	"github.com/arena-deploy/arena-deploy-action/internal/report"
	"github.com/arena-deploy/arena-deploy-action/internal/state"
	"github.com/arena-deploy/arena-deploy-action/internal/target"
	"github.com/arena-deploy/arena-deploy-action/internal/workspace"
)

// session holds what every command loads: config, pack, adapter, state.
type session struct {
	o *Options
	d *Deps

	env    string
	target target.Key
	// unlisted: env is not under deploy.environments (the base config).
	unlisted bool
	ws       *workspace.Root // every file of the pull request is read through it
	arena    *deploy.Arena
	pub      *report.Publisher
	masker   *mask.Masker // pub's
	stderr   *report.LineWriter

	packPath     string
	pack         []byte
	packText     string // pack as a string, made once: every request carries it
	packChecksum string
	packParsed   *pack.Pack
	packMeta     deploy.PackMeta

	configJSON     string // unredacted: only ever sent to the adapter
	redactedConfig string
	arenaConfig    string // redacted

	adapterPath   string
	adapterDigest string
	client        *deploy.AdapterClient
	info          *deploy.ProviderInfo
	warnings      []string

	backend state.Backend
	trust   *state.Trust // who may have written state (provenance.go)
	// protection is what the state branch's rules say (protection.go).
	protection *branchrules.Protection
	prior      *state.Snapshot
	unlock     func() // frees the deploy lock an op took, when the session closes
	// underLock, when set, is asked right after an op took the lock: an
	// error stops the op before it starts the adapter.
	underLock func(ctx context.Context) error

	reviewedHead string // apply: the head SHA of the merged pull request
	// reviewedAdapter is the adapter version the reviewed plan recorded.
	reviewedAdapter string
	installed       *adapterinstall.Result
	commentID       int64 // the sticky comment, once found or made
	sticky          *comment.Sticky
	started         time.Time
	deployment      *environment.Deployment // create-deployment's, once made
	eval            *evaluation             // the evaluations input's results, once read
	restored        *restoration            // a rollback's: what it restores
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func newSession(o *Options, d *Deps) *session {
	env := o.Environment
	if env == "" {
		env = deploy.DefaultEnvironment
	}
	s := &session{o: o, env: env, target: target.New(o.WorkDirRel, o.ConfigPath, env)}
	// Every output of the run goes through one publisher and its masker:
	// the caller's (cmd/action's, which knows the environment's secrets),
	// or one made here around the caller's reporter.
	pub, ok := d.Report.(*report.Publisher)
	if !ok {
		dd := *d
		pub = report.New(d.Report, mask.NewMasker())
		dd.Report = pub
		d = &dd
	}
	s.d, s.pub, s.masker = d, pub, pub.Masker()
	s.started = s.now()
	return s
}

// load reads arena.yaml and the pack, and masks every secret of the config
// before anything else can print it.
func (s *session) load() error {
	if err := s.openWorkspace(); err != nil {
		return err
	}
	arena, err := deploy.LoadArena(s.ws, filepath.Join(s.o.WorkDir, s.o.ConfigPath))
	if err != nil {
		return err
	}
	s.arena = arena
	if !arena.Deploy.HasEnvironment(s.env) && s.o.Preview == nil {
		// Said first: the log's first warning here, the report's title and
		// the line under it (baseView), not one warning among others.
		s.unlisted = true
		listed := strings.Join(arena.Deploy.EnvironmentNames()[1:], ", ") // [0] is always "default"
		if listed == "" {
			listed = "none"
		}
		msg := fmt.Sprintf("Environment %q is not listed under deploy.environments in %s (it lists %s), so it deploys with the base deploy.config, as promptarena does. "+
			"If that is not intended, fix %s or add deploy.environments.%s.",
			s.env, s.o.ConfigPath, listed, s.o.Surface.Input("environment"), s.env)
		s.d.Report.Warningf("%s", msg)
	}
	if s.o.Preview == nil && s.unlisted && preview.IsEnv(s.env) {
		// A preview's target (state, lock, comment) with the base config,
		// not the template's its resources were deployed with: a refresh
		// would see them drift, a destroy or apply would act on others.
		return failf(ReasonInvalidInput, "Previews are deployed, refreshed and destroyed only by command: preview (closing the pull request destroys its preview); "+
			s.o.Surface.Input("environment")+" names an environment that merges deploy.",
			"environment %q is the name of a pull request's preview, which only command preview deploys, with the config of its template", s.env)
	}
	merged := arena.Deploy.MergedConfig(s.env)
	if s.o.Preview != nil {
		if merged, err = s.previewConfig(arena); err != nil {
			return err
		}
	} else if preview.IsTemplate(arena.Deploy, s.env) {
		// Deployed as it is, its names would hold "{pr}" literally, the
		// same for every run: only command preview deploys it, filled in.
		return failf(ReasonArenaConfig, "Deploy a pull request's preview with command: preview; give the environments that merges deploy a config without "+preview.Placeholder+".",
			"the config of environment %q in %s names the pull request (%s): it is a preview template, which only command preview deploys", s.env, s.o.ConfigPath, preview.Placeholder)
	}
	raw, err := json.Marshal(merged)
	if err != nil {
		return fmt.Errorf("encode deploy config: %w", err)
	}
	s.configJSON = string(raw)
	redacted, secrets := mask.Redact(any(merged))
	rb, _ := json.Marshal(redacted)
	// arena_config is what PromptKit's loader sends, read through the
	// workspace fence and redacted like everything else that leaves.
	cfg, err := arenacfg.Load(s.ws, filepath.Join(s.o.WorkDir, s.o.ConfigPath), s.o.ConfigPath, s.o.WorkDir)
	if err != nil {
		return err
	}
	ac, acSecrets, err := cfg.JSON()
	if err != nil {
		return err
	}
	// What promptarena's schemas refuse, promptarena refuses before it
	// deploys: so does the action (every file read through the fence).
	schemaWarnings, err := arenaschema.Check(s.ws, filepath.Join(s.o.WorkDir, s.o.ConfigPath), s.o.ConfigPath)
	if err != nil {
		return err
	}
	for _, w := range schemaWarnings {
		s.d.Report.Warningf("%s", w)
		s.warnings = append(s.warnings, w)
	}
	secrets = append(secrets, acSecrets...)
	for _, sec := range secrets {
		s.d.Report.AddMask(sec)
	}
	// Masked too: a plain value may hold a secret of the environment.
	s.redactedConfig = s.masker.String(string(rb))
	s.arenaConfig = ac
	if s.packPath, err = deploy.ResolvePack(s.ws, s.o.WorkDir, s.o.PackPath); err != nil {
		return err
	}
	packBytes, err := s.ws.ReadFile(s.packPath)
	if err != nil {
		return fmt.Errorf("read pack: %w", err)
	}
	s.setPack(packBytes)
	// One parse for the run: validation, metadata and (when asked) the
	// content digest all come from it.
	if s.packParsed, err = pack.Parse(s.pack); err != nil {
		return fail(ReasonPackInvalid, "Commit the pack as packc compile writes it: one JSON object, UTF-8.", fmt.Errorf("%s: %w", relTo(s.o.WorkDir, s.packPath), err))
	}
	s.packChecksum = s.packParsed.Checksum
	s.packMeta = deploy.PackMeta(s.packParsed.Meta)
	return nil
}

// openWorkspace opens the fence and checks the places the run reads and
// writes under it by name (working-directory, the .promptarena folder with
// its lock, plans and adapters, the state file): each must not resolve
// outside, through ".." or a symlink a pull request committed. A place
// that does not exist yet is fine; the step that needs it says so.
func (s *session) openWorkspace() error {
	dir := s.o.Workspace
	if dir == "" {
		dir = s.o.WorkDir
	}
	ws, err := workspace.Open(dir)
	if err != nil {
		return failf(ReasonInvalidInput, "Run the action in a checkout (GITHUB_WORKSPACE) or, for the CLI, in the repository.", "open the workspace: %w", err)
	}
	s.ws = ws
	places := []struct{ what, path string }{
		{"working-directory", s.o.WorkDir},
		{deploy.DirName, filepath.Join(s.o.WorkDir, deploy.DirName)},
	}
	if s.o.StatePath != "" {
		places = append(places, struct{ what, path string }{"state-path", filepath.Join(s.o.WorkDir, s.o.StatePath)})
	}
	for _, p := range places {
		if _, err := ws.Abs(p.path); errors.Is(err, workspace.ErrOutside) {
			return fmt.Errorf("%s: %w", p.what, err)
		}
	}
	return nil
}

// fenceAdapter refuses an adapter found inside the workspace (the
// project's .promptarena/adapters, or a relative adapter input) that is a
// symlink to a binary outside. An absolute adapter input is the workflow's
// choice and stays allowed.
func (s *session) fenceAdapter(path string) error {
	switch {
	case filepath.IsAbs(s.o.AdapterPath):
		return nil
	case s.o.AdapterPath == "":
		if _, err := s.ws.Rel(path); err != nil {
			return nil // found outside by name: the home directory or PATH
		}
	}
	if _, err := s.ws.Abs(path); errors.Is(err, workspace.ErrOutside) {
		return fmt.Errorf("adapter: %w", err)
	}
	return nil
}

// install puts the adapter named by adapter-install into the project's
// adapters directory, verified.
func (s *session) install(ctx context.Context) (*adapterinstall.Result, error) {
	gh := s.d.Releases
	if gh == nil {
		gh = s.d.GitHub
	}
	if gh == nil {
		return nil, failf(ReasonAdapterInstall, "Give the action a github-token (the default one works for public and same-organisation repositories).",
			"adapter-install needs the GitHub API, and there is no token")
	}
	in := &adapterinstall.Installer{GH: gh, Blob: s.d.BlobClient, Warn: func(f string, a ...any) {
		msg := fmt.Sprintf(f, a...)
		s.d.Report.Warningf("%s", msg)
		s.warnings = append(s.warnings, msg)
	}}
	res, err := in.Install(ctx, adapterinstall.Request{
		Spec: s.o.AdapterInstall, Repo: s.o.AdapterRepo, SHA256: s.o.AdapterSHA256, AllowUnverified: s.o.AdapterAllowUnverified,
		OS: s.o.OS, Arch: s.o.Arch, ProjectDir: s.o.WorkDir, RequireVersion: s.reviewedAdapter,
	})
	if err != nil {
		return nil, err
	}
	s.installed = res
	verb := "Installed"
	if res.Reused {
		verb = "Reusing"
	}
	s.d.Report.Infof("%s %s %s from %s (%s, %s)", verb, res.Asset, res.Version, res.Release, res.SHA256, res.Verified)
	s.d.Report.SetOutput("adapter-version", res.Version)
	return res, nil
}

// adapterHint points to the docs' rules for adapters in the image.
const adapterHint = "The docker action runs adapters in an empty (FROM scratch) image: see arena-deploy-action's docs/adapters.md, \"Adapters in the docker action\"."

// startAdapter finds, digests and starts the adapter and validates the
// config with it; errors stop the run, warnings are kept for the report.
func (s *session) startAdapter(ctx context.Context) error {
	explicit := s.o.AdapterPath
	if explicit != "" && !filepath.IsAbs(explicit) {
		explicit = filepath.Join(s.o.WorkDir, explicit)
	}
	if s.o.AdapterInstall != "" && explicit == "" {
		res, err := s.install(ctx)
		if err != nil {
			return err
		}
		explicit = res.Path
	}
	if err := adaptercheck.NotMounted(explicit, s.o.RunnerTemp); err != nil {
		return fail(ReasonAdapterNotFound, adapterHint, err)
	}
	mgr := deploy.NewAdapterManager(s.o.WorkDir, s.o.HomeDir, s.o.PathEnv)
	path, err := mgr.Discover(s.arena.Deploy.Provider, explicit)
	if err != nil {
		return err
	}
	if err := s.fenceAdapter(path); err != nil {
		return err
	}
	// Before exec, which would only say "no such file or directory" about
	// a file that exists when its loader or interpreter is missing.
	if err := adaptercheck.Runnable(path, s.o.PathEnv); err != nil {
		return fail(ReasonAdapterFailed, adapterHint, err)
	}
	s.adapterPath = path
	if s.adapterDigest, err = fileDigest(path); err != nil {
		return fmt.Errorf("read adapter %s: %w", path, err)
	}
	log := s.d.Log
	if log == nil {
		log = io.Discard
	}
	s.stderr = report.NewLineWriter(log, s.masker)
	s.client, err = deploy.NewAdapterClient(ctx, path, deploy.WithDir(s.o.WorkDir), deploy.WithEnv(s.o.AdapterEnv),
		deploy.WithStderr(s.stderr), deploy.WithRedactor(s.masker.String), deploy.WithTimeouts(s.o.AdapterTimeouts))
	if err != nil {
		return fail(ReasonAdapterFailed, "The adapter binary could not be started.", err)
	}
	if s.info, err = s.client.GetProviderInfo(ctx); err != nil {
		return s.failCall(ReasonAdapterFailed, hintAdapterFailed, err)
	}
	s.info.Name, s.info.Version = s.masker.String(s.info.Name), s.masker.String(s.info.Version)
	s.d.Report.Infof("Adapter %s %s (%s, sha256 %s)", s.info.Name, s.info.Version, path, short(s.adapterDigest, 12))
	s.d.Report.SetOutput("adapter-sha256", s.adapterDigest)
	v, err := s.client.ValidateConfig(ctx, &deploy.ValidateRequest{Config: s.configJSON})
	if err != nil {
		return s.failCall(ReasonAdapterFailed, hintAdapterFailed, err)
	}
	// valid decides, as in the protocol (promptarena's `deploy config
	// import` checks only it): errors of a valid config are advisories,
	// such as agentcore's "warning: …placeholder account ID…".
	advisories := v.Warnings
	if v.Valid {
		advisories = append(advisories[:len(advisories):len(advisories)], v.Errors...)
	}
	for _, w := range advisories {
		s.warnings = append(s.warnings, s.masker.String(w))
		s.d.Report.Warningf("The adapter warns about the config: %s", s.masker.String(w))
	}
	if !v.Valid {
		msgs := make([]string, len(v.Errors))
		for i, e := range v.Errors {
			msgs[i] = "- " + s.masker.String(e)
		}
		if len(msgs) == 0 {
			msgs = []string{"(it gave no reason)"}
		}
		return failf(ReasonInvalidConfig, "Fix deploy.config (and deploy.environments."+s.env+".config) in "+s.o.ConfigPath+".",
			"the %s adapter rejected the deploy config of %q:\n%s", s.info.Name, s.env, strings.Join(msgs, "\n"))
	}
	return nil
}

// adapterLabel names the adapter in messages: "the compat adapter
// (promptarena-deploy-compat 1.5.9)".
func (s *session) adapterLabel() string {
	if s.info == nil {
		return "the adapter"
	}
	return fmt.Sprintf("the %s adapter (%s %s)", s.info.Name, filepath.Base(s.adapterPath), s.info.Version)
}

func (s *session) close() {
	if s.ws != nil {
		_ = s.ws.Close()
	}
	if s.client != nil {
		if err := s.client.Close(); err != nil {
			s.d.Report.Warningf("%s", s.masker.String(err.Error()))
		}
	}
	if s.stderr != nil {
		// The adapter has exited: its last line, if it had no newline.
		_ = s.stderr.Flush()
	}
	if s.unlock != nil {
		s.unlock()
	}
}

// loadState reads the prior state from the backend: only a state proven
// to come from a trusted run (provenance.go).
func (s *session) loadState(ctx context.Context) error {
	snap, err := s.backend.Load(ctx)
	if err != nil {
		return s.untrusted(err)
	}
	s.prior = snap
	return nil
}

// refreshed asks the adapter for the current status of the prior state and
// returns the state to plan against. A failure is a warning, as in
// PromptKit: the stored state is used as it is.
func (s *session) refreshed(ctx context.Context) string {
	if s.prior == nil || s.prior.State == nil || s.prior.State.State == "" {
		return ""
	}
	st := s.prior.State.State
	resp, err := s.client.Status(ctx, &deploy.StatusRequest{DeployConfig: s.configJSON, Environment: s.env, PriorState: st})
	if errors.Is(err, deploy.ErrMethodNotSupported) {
		// Vertex's: no status at all. promptarena plans against the stored
		// state then, without a word; so do we, with one.
		s.d.Report.Infof("%s does not offer status, so the prior state was not refreshed: planning against the stored state, as promptarena does.", s.adapterLabel())
		return st
	}
	if err != nil {
		s.d.Report.Warningf("refresh of the prior state failed, planning against the stored state: %s", s.masker.String(err.Error()))
		return st
	}
	if resp.State != "" {
		return resp.State
	}
	return st
}

func (s *session) planRequest(priorState string, redacted bool) *deploy.PlanRequest {
	cfg, arenaCfg := s.configJSON, s.arenaConfig
	if redacted {
		// What is uploaded: no secret, wherever the adapter or the
		// config put one. (The pack is the repository's own content and
		// is kept byte for byte: apply verifies it.)
		cfg, arenaCfg, priorState = s.redactedConfig, s.masker.String(s.arenaConfig), s.masker.String(priorState)
	}
	return &deploy.PlanRequest{PackJSON: s.packText, DeployConfig: cfg, ArenaConfig: arenaCfg, Environment: s.env, PriorState: priorState}
}

func (s *session) plan(ctx context.Context, priorState string) (*deploy.PlanResponse, error) {
	resp, err := s.client.Plan(ctx, s.planRequest(priorState, false))
	if err != nil {
		return nil, s.failCall(ReasonPlanFailed, "The adapter could not plan; its message is above.", err)
	}
	if resp.Changes == nil {
		resp.Changes = []deploy.ResourceChange{}
	}
	report.Changes(s.masker, resp)
	return resp, nil
}

func fileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func short(s string, n int) string {
	s = strings.TrimPrefix(s, "sha256:")
	if len(s) > n {
		return s[:n]
	}
	return s
}

// setPack makes b the pack of this run (the file, or the reviewed bytes an
// apply uses instead). Its string form shares b's memory instead of copying
// a 10 MB pack a second time: b is never written after this (setPack is the
// only writer of s.pack, and every reader only reads), which is what
// unsafe.String requires.
func (s *session) setPack(b []byte) {
	s.pack, s.packText = b, ""
	if len(b) > 0 {
		s.packText = unsafe.String(&b[0], len(b))
	}
}
