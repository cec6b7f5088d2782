// Package targets finds every deploy target of a repository (an arena file
// with a deploy section, and each environment it deploys to), the files
// each target's plan reads, and which targets a change touched: what a
// monorepo's workflow needs to fan out only the plans and applies that
// matter, in the order environments follow each other.
package targets

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"unicode"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/arena-deploy/arena-deploy-action/internal/arenacfg"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/preview"
	"github.com/arena-deploy/arena-deploy-action/internal/workspace"
)

// DefaultPatterns find the arena files of a repository.
var DefaultPatterns = []string{"**/arena.yaml"}

// FollowsAnnotation is the arena file's metadata.annotations key that
// orders its environments ("production: staging"): promptarena's schema
// allows no field of ours in the deploy section, and annotations are the
// place it leaves for tools.
const FollowsAnnotation = "arena-deploy/follows"

// ErrInvalid is matched by a pattern or follows list that cannot be used.
var ErrInvalid = errors.New("invalid targets input")

// ErrArenaFollows is matched by an arena file whose arena-deploy/follows
// annotation cannot be used.
var ErrArenaFollows = errors.New("invalid arena-deploy/follows annotation")

// Options say where to look and what to keep.
type Options struct {
	// Patterns are globs (with **) of arena files, slash-separated and
	// relative to the workspace root; empty: DefaultPatterns.
	Patterns []string
	// Environments keeps only these; empty: each arena file's listed
	// environments (and the default one when it lists none).
	Environments []string
	// Follows orders environments for every project (the follows input);
	// a project's own annotation adds to it and wins where both name an
	// environment.
	Follows Follows
	// Pack is the pack input: each project's pack, relative to its folder
	// (or to the workspace when absolute), an input of every target.
	Pack string
	// Adapter is the adapter input: a binary relative to each project's
	// folder is an input of its targets (an absolute one is the runner's,
	// not the repository's).
	Adapter string

	links links // what Discover found on the way to each input
}

// Target is one deploy target: the matrix entry a workflow fans out.
type Target struct {
	WorkingDirectory string `json:"working-directory"`
	Config           string `json:"config"`
	Environment      string `json:"environment"`
	// Wave is 1 for environments that follow none, and one more than the
	// wave of the environment followed.
	Wave    int    `json:"wave"`
	Follows string `json:"follows,omitempty"`
	// Reason says why the target is in the matrix (what changed).
	Reason string `json:"reason,omitempty"`
	// Inputs are the files the target's plan reads (slash-separated,
	// relative to the workspace root), sorted: the arena file, every file
	// it names, the pack and the project's adapters folder.
	Inputs []string `json:"-"`
	// Problem is set when the arena file or a file it names does not load:
	// the target is kept, so its plan job says what is wrong.
	Problem string `json:"-"`
	// PacksIn is the folder whose *.pack.json files are the target's packs
	// (the pack input unset: the plan deploys the only one there), "" when
	// the pack input names it. Any of them changing, a deleted one too (no
	// file of the checkout, so no input), changes which pack the plan finds.
	PacksIn string `json:"-"`
}

// Skipped is an arena file that matched but is not a deploy target.
type Skipped struct {
	Path string
	Why  string
}

// Found is what Discover found.
type Found struct {
	Targets []Target
	Skipped []Skipped
}

// skipDirs are never searched: VCS data, dependencies and the action's own
// folder.
var skipDirs = map[string]bool{".git": true, "node_modules": true, deploy.DirName: true}

// Discover walks the workspace for arena files matching the patterns and
// returns their targets, sorted by working directory, config and wave.
func Discover(ws *workspace.Root, o Options) (*Found, error) {
	patterns := o.Patterns
	if len(patterns) == 0 {
		patterns = DefaultPatterns
	}
	if err := CheckPatterns(patterns); err != nil {
		return nil, err
	}
	o.links = links{}
	root := ws.Dir()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		for _, pat := range patterns {
			if ok, _ := doublestar.Match(fromRoot(pat), rel); ok {
				files = append(files, rel)
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("search the workspace for arena files: %w", err)
	}
	sort.Strings(files)
	found := &Found{}
	for _, rel := range files {
		dir, config := path.Split(rel)
		if why := cmp.Or(unsafeName(rel), unsafeName(path.Clean(dir)), unsafeName(config)); why != "" {
			found.Skipped = append(found.Skipped, Skipped{Path: rel, Why: "its path " + why})
			continue
		}
		ts, skipped, err := load(ws, rel, o)
		if err != nil {
			return nil, err
		}
		found.Skipped = append(found.Skipped, skipped...)
		found.Targets = append(found.Targets, ts...)
	}
	return found, nil
}

// CheckPatterns says whether every pattern is a glob of files inside the
// repository.
func CheckPatterns(patterns []string) error {
	return checkGlobs(patterns, "**/arena.yaml, services/*/arena.yaml")
}

// CheckShared says the same of the shared-files globs, which are matched
// against the compare's paths (relative to the repository root): one that
// is not a glob, or names no such path, would match nothing, silently.
func CheckShared(patterns []string) error {
	return checkGlobs(patterns, ".github/workflows/**, shared/**")
}

func checkGlobs(patterns []string, examples string) error {
	for _, p := range patterns {
		if !doublestar.ValidatePattern(p) || strings.HasPrefix(p, "/") || hasDotDot(p) {
			return fmt.Errorf("%w: %q is not a glob of files inside the repository (e.g. %s)", ErrInvalid, p, examples)
		}
	}
	return nil
}

// fromRoot is a glob without the "./" it may start with: the paths it is
// matched with (the workspace walk's, the compare's) are relative to the
// repository root with none, so "./services/*/arena.yaml" matched nothing.
func fromRoot(glob string) string {
	for strings.HasPrefix(glob, "./") {
		glob = strings.TrimLeft(glob[2:], "/")
	}
	return glob
}

func hasDotDot(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return true
		}
	}
	return false
}

// load makes the targets of one arena file, and says which of the file
// or its environments are none, and why.
func load(ws *workspace.Root, rel string, o Options) ([]Target, []Skipped, error) {
	abs := filepath.Join(ws.Dir(), filepath.FromSlash(rel))
	dir, config := path.Split(rel)
	dir = path.Clean(dir)
	rec := &recorder{ws: ws, read: map[string]bool{}, links: o.links}
	rec.add(abs)
	problem := ""
	var envs []string
	follows := o.Follows
	arena, err := deploy.LoadArena(ws, abs)
	switch {
	case errors.Is(err, deploy.ErrNoDeploySection):
		return nil, []Skipped{{Path: rel, Why: "it has no deploy section (an arena for tests only)"}}, nil
	case errors.Is(err, workspace.ErrOutside):
		return nil, []Skipped{{Path: rel, Why: "it resolves outside the workspace"}}, nil
	case err != nil:
		problem = err.Error()
	default:
		envs = arena.Deploy.EnvironmentNames()[1:] // the listed ones; [0] is always "default"
		var ferr error
		if follows, ferr = ProjectFollows(follows, arena.Annotations); ferr != nil {
			return nil, nil, fmt.Errorf("%w: %s: metadata.annotations[%q]: %v", ErrArenaFollows, rel, FollowsAnnotation, strings.TrimPrefix(ferr.Error(), ErrInvalid.Error()+": "))
		}
		// Every file the plan's arena_config reads, as PromptKit's loader
		// reads them: prompts, tools, scenarios, evals, providers, judges,
		// and shared files they name from other folders.
		if _, lerr := arenacfg.Load(rec, abs, config, filepath.Dir(abs)); lerr != nil {
			problem = lerr.Error()
		}
	}
	if len(o.Environments) > 0 {
		envs = keep(envs, o.Environments, arena)
	} else if len(envs) == 0 {
		envs = []string{deploy.DefaultEnvironment}
	}
	var skipped []Skipped
	if arena != nil {
		deployed := envs[:0:0]
		for _, env := range envs {
			if why := unsafeName(env); why != "" {
				skipped = append(skipped, Skipped{Path: rel + " (" + env + ")", Why: "the environment's name " + why})
				continue
			}
			if preview.IsTemplate(arena.Deploy, env) {
				skipped = append(skipped, Skipped{Path: rel + " (" + env + ")",
					Why: "its config names the pull request (" + preview.Placeholder + "): a preview template, which command preview deploys per pull request, never a merge"})
				continue
			}
			deployed = append(deployed, env)
		}
		envs = deployed
	}
	// The pack (the only *.pack.json, or all of them when several: the
	// pack input picks one) and the project's adapters, which pin what
	// runs.
	packs, _ := filepath.Glob(filepath.Join(filepath.Dir(abs), "*.pack.json"))
	if o.Pack != "" {
		// Named by the pack input, as deploy.ResolvePack finds it.
		p := o.Pack
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(abs), p)
		}
		packs = []string{p}
	}
	for _, p := range packs {
		rec.add(p)
	}
	if o.Adapter != "" && !filepath.IsAbs(o.Adapter) {
		rec.add(filepath.Join(filepath.Dir(abs), o.Adapter))
	}
	// The adapters folder: everything under it, and under the folder a
	// link on its way leads to.
	adapters := path.Join(dir, deploy.DirName, "adapters")
	folders := []string{adapters + "/"}
	if via := rec.links.resolved(ws.Dir(), adapters); len(via) > 0 {
		for _, link := range via[:len(via)-1] {
			rec.read[link] = true
		}
		if real := via[len(via)-1]; real != adapters {
			folders = append(folders, real+"/")
		}
	}
	inputs := append(rec.paths(), folders...)
	waves, _ := follows.Waves() // checked above and by ParseFollows
	out := make([]Target, 0, len(envs))
	for _, env := range envs {
		w := waves[env]
		if w == 0 {
			w = 1
		}
		t := Target{WorkingDirectory: dir, Config: config, Environment: env, Wave: w, Follows: follows[env], Inputs: inputs, Problem: problem}
		if o.Pack == "" {
			t.PacksIn = dir
		}
		out = append(out, t)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Wave != out[j].Wave {
			return out[i].Wave < out[j].Wave
		}
		return out[i].Environment < out[j].Environment
	})
	return out, skipped, nil
}

// unsafeName says why a name cannot be a matrix value ("" if it can): a
// control character (a line break ends a log line, a workflow command or
// a shell word where a workflow pastes the value), or white space at an
// end, which an action's input loses (another directory, another
// environment).
func unsafeName(s string) string {
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Sprintf("holds a control character (%U): a workflow cannot pass it on safely", r)
		}
	}
	if strings.TrimSpace(s) != s {
		return "has white space at an end, which an action's input loses"
	}
	return ""
}

// keep is the environments input applied to one arena file: a name it
// lists, or any name when it lists none (the base config deploys
// everywhere, as promptarena does).
func keep(listed, wanted []string, arena *deploy.Arena) []string {
	var out []string
	for _, w := range wanted {
		if len(listed) == 0 || (arena != nil && arena.Deploy.HasEnvironment(w)) {
			out = append(out, w)
		}
	}
	return out
}

// recorder reads files through the workspace and remembers which.
type recorder struct {
	ws    *workspace.Root
	read  map[string]bool
	links links
}

func (r *recorder) ReadFile(name string) ([]byte, error) {
	b, err := r.ws.ReadFile(name)
	r.add(name)
	return b, err
}

func (r *recorder) add(name string) {
	rel, err := r.ws.Rel(name)
	if err != nil {
		return
	}
	rel = filepath.ToSlash(rel)
	r.read[rel] = true
	for _, p := range r.links.resolved(r.ws.Dir(), rel) {
		r.read[p] = true
	}
}

// links remembers what each path of the workspace is (missing, a link
// and where to, or anything else), for one Discover: the targets of a
// monorepo share most folders on their paths.
type links map[string]linkEntry

type linkEntry struct {
	missing, link bool
	target        string // a link's, as written; "" if it cannot be read
}

func (c links) lstat(root, rel string) linkEntry {
	if e, ok := c[rel]; ok {
		return e
	}
	var e linkEntry
	abs := filepath.Join(root, filepath.FromSlash(rel))
	fi, err := os.Lstat(abs)
	switch {
	case err != nil:
		e.missing = true
	case fi.Mode()&fs.ModeSymlink != 0:
		e.link = true
		e.target, _ = os.Readlink(abs)
	}
	if c != nil {
		c[rel] = e
	}
	return e
}

// maxLinks is how many symlinks one path may follow (Linux's limit).
const maxLinks = 40

// resolved is what reading rel depends on when symlinks are on its way:
// each link (retargeting it changes what is read), then the path the read
// ends at (its content changes under that name, which is the one a
// compare lists). Only link metadata is read; a link leading outside the
// workspace ends the walk (the fence refuses that read anyway), as does
// a missing file (the rest is read as named). Without links it is rel.
func (c links) resolved(root, rel string) []string {
	var out []string
	todo := strings.Split(rel, "/")
	cur := "" // resolved so far, relative to root
	for hops := 0; len(todo) > 0; {
		part := todo[0]
		todo = todo[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			if cur == "" {
				return out
			}
			if cur = path.Dir(cur); cur == "." {
				cur = ""
			}
			continue
		}
		next := path.Join(cur, part)
		e := c.lstat(root, next)
		if e.missing {
			return append(out, path.Join(append([]string{next}, todo...)...))
		}
		if !e.link {
			cur = next
			continue
		}
		out = append(out, next)
		target := e.target
		if hops++; target == "" || hops > maxLinks || filepath.IsAbs(target) {
			return out
		}
		todo = append(strings.Split(filepath.ToSlash(target), "/"), todo...)
	}
	if cur == "" {
		return out
	}
	return append(out, cur)
}

func (r *recorder) paths() []string {
	out := make([]string, 0, len(r.read))
	for p := range r.read {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
