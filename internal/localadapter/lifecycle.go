package localadapter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
)

// change is one planned step: what the pack wants (nil to delete) and what
// the prior state recorded (nil when new).
type change struct {
	action deploy.Action
	detail string
	want   *desired
	prior  *resourceState
}

// diff compares the pack with the prior state and with the files really on
// disk, so out-of-band edits show as DRIFT instead of being overwritten
// silently.
func (p *Provider) diff(prior *state, want []desired) ([]change, error) {
	out := make([]change, 0, len(want))
	err := p.eachChange(prior, want, func(c change) { out = append(out, c) })
	return out, err
}

// eachChange is diff, a change at a time: a plan makes each answer as it
// comes instead of listing all changes first (48 bytes each, 50,000 in a
// first plan of 50,000 prompts). An error stops it part way, so apply,
// which acts on changes, lists them all first (diff).
func (p *Provider) eachChange(prior *state, want []desired, f func(change)) error {
	// Only the prior state's resources are looked up and remembered: a
	// first plan of 50,000 prompts made and kept a key for each.
	seen := make(map[string]bool, len(prior.Resources))
	ls := listings{}
	for i := range want {
		w := &want[i]
		var ps resourceState
		had := false
		if len(prior.Resources) > 0 {
			k := key(w.Type, w.Name)
			if ps, had = prior.Resources[k]; had {
				seen[k] = true
			}
		}
		c, err := p.diffOne(w, ps, had, ls)
		if err != nil {
			return err
		}
		f(c)
	}
	var gone []string
	for k := range prior.Resources {
		if !seen[k] {
			gone = append(gone, k)
		}
	}
	sort.Strings(gone)
	for _, k := range gone {
		ps := prior.Resources[k]
		f(change{action: deploy.ActionDelete, prior: &ps, detail: "remove " + ps.Path + " (no longer in the pack)"})
	}
	return nil
}

func (p *Provider) diffOne(w *desired, ps resourceState, had bool, ls listings) (change, error) {
	c := change{want: w}
	if had {
		c.prior = &ps
	}
	cur, err := p.onDiskListed(w.Path, ls)
	if err != nil {
		return c, fmt.Errorf("read %s: %w", w.Path, err)
	}
	switch {
	case !had && cur == "":
		c.action, c.detail = deploy.ActionCreate, "write "+w.Path
	case !had && cur == digest(w.content()):
		c.action, c.detail = deploy.ActionNoChange, w.Path+" already has this content; it will be adopted"
	case !had:
		c.action, c.detail = deploy.ActionCreate, fmt.Sprintf("write %s, replacing a file this adapter did not deploy", w.Path)
	default:
		priorDisk, err := p.onDisk(ps.Path)
		if err != nil {
			return c, fmt.Errorf("read %s: %w", ps.Path, err)
		}
		switch {
		case priorDisk == "":
			c.action, c.detail = deploy.ActionDrift, ps.Path+" was removed outside a deploy; apply restores it"
		case priorDisk != ps.SHA256:
			c.action, c.detail = deploy.ActionDrift, ps.Path+" was changed outside a deploy; apply restores it"
		case ps.Path != w.Path:
			c.action, c.detail = deploy.ActionUpdate, "move "+ps.Path+" to "+w.Path
		case ps.Source == "" && ps.SHA256 == digest(w.content()):
			// Imported: no source digest yet, but the file already matches.
			c.action, c.detail = deploy.ActionNoChange, "up to date (imported)"
		case ps.Source != w.source():
			c.action, c.detail = deploy.ActionUpdate, fmt.Sprintf("%s changes (source %s → %s)", w.Path, short(ps.Source), short(w.source()))
		default:
			c.action, c.detail = deploy.ActionNoChange, "up to date"
		}
	}
	return c, nil
}

// listings are the names in directories, read once per plan: a new
// resource whose name is not there is missing without a system call of
// its own (a first deploy of 50,000 prompts made 50,000).
type listings map[string]map[string]bool // nil: not listed

// onDiskListed is onDisk, answered from the listing of rel's directory
// when the file is not there. rel is clean (filepath.Join made it), so its
// directory is found without joining each path to BaseDir first.
func (p *Provider) onDiskListed(rel string, ls listings) (string, error) {
	dir, base := filepath.Split(rel)
	names, ok := ls[dir]
	if !ok {
		names = listDir(p.abs(dir))
		ls[dir] = names
	}
	if names != nil && !names[base] {
		return "", nil
	}
	return p.onDisk(rel)
}

// listDir lists dir's names; a directory that is not there lists nothing,
// and one that cannot be read is nil (each file is looked at).
func listDir(dir string) map[string]bool {
	f, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return map[string]bool{}
	}
	if err != nil {
		return nil
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil
	}
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func (p *Provider) prepare(req *deploy.PlanRequest) (config, *state, []desired, error) {
	cfg, err := parseConfig(req.DeployConfig)
	if err != nil {
		return cfg, nil, nil, err
	}
	prior, err := decodeState(req.PriorState)
	if err != nil {
		return cfg, nil, nil, err
	}
	want, err := desiredResources(req.PackJSON, cfg)
	if err != nil {
		return cfg, prior, want, err
	}
	return cfg, prior, want, p.fence(cfg, prior, want)
}

// Plan implements deploy.Provider.
func (p *Provider) Plan(_ context.Context, req *deploy.PlanRequest) (*deploy.PlanResponse, error) {
	_, prior, want, err := p.prepare(req)
	if err != nil {
		return nil, err
	}
	resp := &deploy.PlanResponse{Changes: make([]deploy.ResourceChange, 0, len(want))}
	counts := map[deploy.Action]int{}
	err = p.eachChange(prior, want, func(c change) {
		r := c.want
		typ, name := "", ""
		if r != nil {
			typ, name = r.Type, r.Name
		} else {
			typ, name = c.prior.Type, c.prior.Name
		}
		resp.Changes = append(resp.Changes, deploy.ResourceChange{Type: typ, Name: name, Action: c.action, Detail: c.detail})
		counts[c.action]++
	})
	if err != nil {
		return nil, err
	}
	resp.Summary = fmt.Sprintf("%d to create, %d to update, %d to delete, %d drifted, %d unchanged",
		counts[deploy.ActionCreate], counts[deploy.ActionUpdate], counts[deploy.ActionDelete], counts[deploy.ActionDrift], counts[deploy.ActionNoChange])
	return resp, nil
}

// Apply implements deploy.Provider. It writes every file atomically and, on
// failure, still returns the state of what it did deploy.
func (p *Provider) Apply(_ context.Context, req *deploy.PlanRequest, cb deploy.ApplyCallback) (string, error) {
	cfg, prior, want, err := p.prepare(req)
	if err != nil {
		return "", err
	}
	changes, err := p.diff(prior, want)
	if err != nil {
		return "", err
	}
	next := &state{TargetDir: cfg.TargetDir, CreatedDir: prior.CreatedDir, Resources: map[string]resourceState{}}
	for k, v := range prior.Resources {
		next.Resources[k] = v
	}
	if _, err := os.Stat(p.abs(cfg.TargetDir)); errors.Is(err, os.ErrNotExist) {
		next.CreatedDir = true
	}
	emit(cb, &deploy.ApplyEvent{Type: deploy.EventProgress, Message: fmt.Sprintf("deploying %d resources to %s", len(want), cfg.TargetDir)})
	for _, c := range changes {
		res, err := p.applyOne(c, next)
		if err != nil {
			emit(cb, &deploy.ApplyEvent{Type: deploy.EventError, Message: err.Error(), Resource: res})
			return next.encode(), err
		}
		if res != nil {
			emit(cb, &deploy.ApplyEvent{Type: deploy.EventResource, Resource: res})
		}
	}
	emit(cb, &deploy.ApplyEvent{Type: deploy.EventComplete, Message: "deployed to " + cfg.TargetDir})
	return next.encode(), nil
}

func emit(cb deploy.ApplyCallback, e *deploy.ApplyEvent) {
	if cb != nil {
		_ = cb(e)
	}
}

// applyOne carries out one change and records it in next.
func (p *Provider) applyOne(c change, next *state) (*deploy.ResourceResult, error) {
	if c.want == nil {
		res := &deploy.ResourceResult{Type: c.prior.Type, Name: c.prior.Name, Action: deploy.ActionDelete, Status: "deleted", Detail: "removed " + c.prior.Path}
		if err := os.Remove(p.abs(c.prior.Path)); err != nil && !errors.Is(err, os.ErrNotExist) {
			res.Status, res.Detail = "failed", err.Error()
			return res, fmt.Errorf("delete %s: %w", c.prior.Path, err)
		}
		delete(next.Resources, key(c.prior.Type, c.prior.Name))
		return res, nil
	}
	w := c.want
	status := map[deploy.Action]string{deploy.ActionCreate: "created", deploy.ActionUpdate: "updated", deploy.ActionDrift: "updated", deploy.ActionNoChange: ""}[c.action]
	abs := p.abs(w.Path)
	res := &deploy.ResourceResult{Type: w.Type, Name: w.Name, Action: c.action, Status: status, Detail: w.Path,
		Links: []deploy.Link{{Label: "file", URL: fileURL(abs)}}}
	w.source()
	rs := w.resourceState
	if c.action == deploy.ActionNoChange {
		rs.SHA256 = c.priorDigest(w)
		next.Resources[key(w.Type, w.Name)] = rs
		return nil, nil
	}
	content := w.content()
	if err := writeAtomic(abs, content); err != nil {
		res.Status, res.Detail = "failed", err.Error()
		return res, fmt.Errorf("write %s: %w", w.Path, err)
	}
	if c.prior != nil && c.prior.Path != w.Path {
		_ = os.Remove(p.abs(c.prior.Path))
	}
	rs.SHA256 = digest(content)
	next.Resources[key(w.Type, w.Name)] = rs
	return res, nil
}

func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// Status implements deploy.Provider.
func (p *Provider) Status(_ context.Context, req *deploy.StatusRequest) (*deploy.StatusResponse, error) {
	prior, err := decodeState(req.PriorState)
	if err != nil {
		return nil, err
	}
	if cfg, err := parseConfig(req.DeployConfig); err == nil {
		if err := p.fence(cfg, prior, nil); err != nil {
			return nil, err
		}
	} else if len(prior.Resources) > 0 {
		return nil, err
	}
	if len(prior.Resources) == 0 {
		return &deploy.StatusResponse{Status: "not_deployed", State: req.PriorState}, nil
	}
	resp := &deploy.StatusResponse{Status: "deployed", State: req.PriorState}
	for _, k := range sortedKeys(prior.Resources) {
		r := prior.Resources[k]
		cur, err := p.onDisk(r.Path)
		rs := deploy.ResourceStatus{Type: r.Type, Name: r.Name, Status: "healthy", Detail: r.Path,
			Links: []deploy.Link{{Label: "file", URL: fileURL(p.abs(r.Path))}}}
		switch {
		case err != nil:
			rs.Status, rs.Detail = "unhealthy", err.Error()
		case cur == "":
			rs.Status, rs.Detail, rs.Links = "missing", r.Path+" does not exist", nil
		case cur != r.SHA256:
			rs.Status, rs.Detail = "unhealthy", r.Path+" differs from what was deployed"
		}
		if rs.Status != "healthy" {
			resp.Status = "degraded"
		}
		resp.Resources = append(resp.Resources, rs)
	}
	resp.Links = []deploy.Link{{Label: "deploy directory", URL: fileURL(p.abs(prior.TargetDir))}}
	var cfg config
	if json.Unmarshal([]byte(req.DeployConfig), &cfg) == nil && cfg.ConsoleURL != "" {
		resp.Links = append(resp.Links, deploy.Link{Label: "Console", URL: cfg.ConsoleURL, Rel: "console"})
	}
	return resp, nil
}

func sortedKeys(m map[string]resourceState) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Destroy implements deploy.Provider: it removes the files it deployed, the
// directories it made if they are empty, and nothing else.
func (p *Provider) Destroy(_ context.Context, req *deploy.DestroyRequest, cb deploy.DestroyCallback) error {
	prior, err := decodeState(req.PriorState)
	if err != nil {
		return err
	}
	cfg, err := parseConfig(req.DeployConfig)
	if err != nil {
		return err
	}
	if err := p.fence(cfg, prior, nil); err != nil {
		return err
	}
	var errs []error
	dirs := map[string]bool{}
	for _, k := range sortedKeys(prior.Resources) {
		r := prior.Resources[k]
		abs := p.abs(r.Path)
		dirs[filepath.Dir(abs)] = true
		res := &deploy.ResourceResult{Type: r.Type, Name: r.Name, Action: deploy.ActionDelete, Status: "deleted", Detail: "removed " + r.Path}
		if err := os.Remove(abs); err != nil && !errors.Is(err, os.ErrNotExist) {
			res.Status, res.Detail = "failed", err.Error()
			errs = append(errs, err)
		}
		if cb != nil {
			_ = cb(&deploy.DestroyEvent{Type: deploy.EventResource, Resource: res})
		}
	}
	if prior.TargetDir != "" {
		target := p.abs(prior.TargetDir)
		// Only the prompts directory this adapter made, and the target itself
		// if the first deploy made it; os.Remove refuses non-empty ones.
		_ = os.Remove(filepath.Join(target, "prompts"))
		if prior.CreatedDir {
			_ = os.Remove(target)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("destroy: %w", errors.Join(errs...))
	}
	if cb != nil {
		_ = cb(&deploy.DestroyEvent{Type: deploy.EventComplete, Message: "destroyed"})
	}
	return nil
}

// Import implements deploy.Provider: it adopts an existing file as a
// resource. The identifier is the file's path relative to target_dir
// (default prompts/<name>.json for prompts, pack.json for the pack).
func (p *Provider) Import(_ context.Context, req *deploy.ImportRequest) (*deploy.ImportResponse, error) {
	cfg, err := parseConfig(req.DeployConfig)
	if err != nil {
		return nil, err
	}
	prior, err := decodeState(req.PriorState)
	if err != nil {
		return nil, err
	}
	if err := p.fence(cfg, prior, nil); err != nil {
		return nil, err
	}
	rel := req.Identifier
	switch {
	case rel != "":
	case req.ResourceType == typePrompt:
		rel = filepath.Join("prompts", req.ResourceName+".json")
	case req.ResourceType == typePack:
		rel = "pack.json"
	default:
		return nil, fmt.Errorf("unknown resource type %q: this adapter manages %q and %q", req.ResourceType, typePrompt, typePack)
	}
	if filepath.IsAbs(rel) || strings.HasPrefix(filepath.Clean(rel), "..") {
		return nil, fmt.Errorf("identifier %q must be a path inside target_dir", req.Identifier)
	}
	path := filepath.Join(cfg.TargetDir, rel)
	sum, err := p.onDisk(path)
	if err != nil {
		return nil, err
	}
	if sum == "" {
		return nil, fmt.Errorf("nothing to import: %s does not exist", path)
	}
	prior.TargetDir = cfg.TargetDir
	prior.Resources[key(req.ResourceType, req.ResourceName)] = resourceState{Type: req.ResourceType, Name: req.ResourceName, Path: path, SHA256: sum}
	return &deploy.ImportResponse{
		Resource: deploy.ResourceStatus{Type: req.ResourceType, Name: req.ResourceName, Status: "healthy", Detail: path,
			Links: []deploy.Link{{Label: "file", URL: fileURL(p.abs(path))}}},
		State: prior.encode(),
	}, nil
}

// priorDigest is the on-disk digest of an unchanged resource: the recorded
// one, or for an adopted file the digest of what the pack renders.
func (c change) priorDigest(w *desired) string {
	if c.prior != nil {
		return c.prior.SHA256
	}
	return digest(w.content())
}
