package evalresults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"
)

// promptarena's results do not name the pack they ran against (PromptPack
// is "" and prompt_packs null in `promptarena run --format json`), so
// results are bound to a deploy by what can be proven: they were written
// in this job, after the checkout of the commit being deployed, they are
// not files of that commit, and whatever identity they do carry (a pack
// name, the system prompts the runs recorded) is this pack's.

// ErrUnbound is matched when results cannot be shown to come from this
// job: committed files of the repository, or written before the checkout.
var ErrUnbound = errors.New("evaluation results were not written by this job")

// ErrOtherPack is matched when results carry the identity of another pack.
var ErrOtherPack = errors.New("evaluation results are of another pack")

// CheckFresh fails ErrUnbound for a file not written after the checkout
// (checkout is its time, what names how it is known), or written after
// now (the wall clock, whose time file systems give files). A self-hosted
// runner keeps the workspace between jobs: results an earlier job left
// are older than this job's checkout, unless their time was set ahead by
// hand (touch -d), which only a time past now can tell. A checkout
// without git (the commit's tarball) gives every file the commit's time,
// the arena file too: committed results are exactly as old as the
// checkout, so being as old is not enough.
func CheckFresh(files []File, checkout time.Time, what string, now time.Time) error {
	if checkout.IsZero() {
		return nil
	}
	for _, f := range files {
		if !f.ModTime.After(checkout) {
			return fmt.Errorf("%w: %s was written at %s, not after this job's checkout (%s, %s): results committed to the repository, or left behind by an earlier job, are not evidence for this commit",
				ErrUnbound, f.Rel, f.ModTime.UTC().Format(time.RFC3339Nano), what, checkout.UTC().Format(time.RFC3339Nano))
		}
		if !now.IsZero() && f.ModTime.After(now.Add(clockSkew)) {
			return fmt.Errorf("%w: %s was written at %s, after this run's clock (%s): a time set ahead by hand, not the time this job's evaluation wrote it; results left by an earlier job are not evidence for this commit",
				ErrUnbound, f.Rel, f.ModTime.UTC().Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339Nano))
		}
	}
	return nil
}

// clockSkew is how far past now a file's time may be: a network file
// system's clock may run a little ahead of the runner's.
const clockSkew = time.Minute

// RepoFiles lists the files a folder holds in the commit being deployed:
// name → git blob id (none: an empty map).
type RepoFiles interface {
	FilesAt(ctx context.Context, dir string) (map[string]string, error)
}

// CheckNotCommitted fails ErrUnbound when a file read is, byte for byte, a
// file of the commit: results committed to the repository were not
// produced by this job's evaluation (a pull request's author writes them).
func CheckNotCommitted(ctx context.Context, repo RepoFiles, files []File) error {
	if repo == nil {
		return nil
	}
	byDir := map[string][]File{}
	for _, f := range files {
		byDir[path.Dir(f.Rel)] = append(byDir[path.Dir(f.Rel)], f)
	}
	dirs := make([]string, 0, len(byDir))
	for d := range byDir {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		committed, err := repo.FilesAt(ctx, d)
		if err != nil {
			return fmt.Errorf("list %s in the commit: %w", d, err)
		}
		for _, f := range byDir[d] {
			if sha, ok := committed[path.Base(f.Rel)]; ok && sha == f.BlobSHA {
				return fmt.Errorf("%w: %s is a file committed to the repository (blob %s), not one the evaluation wrote in this job; "+
					"keep results out of the repository (add the folder to .gitignore) and let an earlier step of this job write them", ErrUnbound, f.Rel, shortID(sha))
			}
		}
	}
	return nil
}

// Pack is what identifies the pack being deployed.
type Pack struct {
	ID, Name, Version, Checksum string
	// Templates are the system templates by prompt id: each prompt's
	// system_template and its model overrides.
	Templates map[string][]string
}

// PackFromFields reads the prompts' templates of a compiled pack (its
// top-level "prompts" member).
func PackFromFields(id, name, version, checksum string, prompts json.RawMessage) Pack {
	p := Pack{ID: id, Name: name, Version: version, Checksum: checksum, Templates: map[string][]string{}}
	var ps map[string]struct {
		SystemTemplate string `json:"system_template"`
		ModelOverrides map[string]struct {
			SystemTemplate       string `json:"system_template"`
			SystemTemplateSuffix string `json:"system_template_suffix"`
		} `json:"model_overrides"`
	}
	if json.Unmarshal(prompts, &ps) != nil {
		return p
	}
	for pid, pr := range ps {
		var ts []string
		if pr.SystemTemplate != "" {
			ts = append(ts, pr.SystemTemplate)
		}
		for _, o := range pr.ModelOverrides {
			base := pr.SystemTemplate
			if o.SystemTemplate != "" {
				base = o.SystemTemplate
			}
			if t := base + o.SystemTemplateSuffix; t != "" {
				ts = append(ts, t)
			}
		}
		if len(ts) > 0 {
			p.Templates[pid] = ts
		}
	}
	return p
}

func (p Pack) label() string {
	s := p.ID
	if p.Version != "" {
		s += " " + p.Version
	}
	if p.Checksum != "" {
		s += " (" + shortID(strings.TrimPrefix(p.Checksum, "sha256:")) + ")"
	}
	return s
}

// CheckIdentity fails ErrOtherPack, naming both identities, when a run
// names another pack, or recorded a system prompt that none of the pack's
// prompts renders to. PromptKit renders a system prompt by replacing each
// {{variable}} of its template (fragments too) with a value, so the
// template's text between placeholders appears in the prompt, in order;
// a prompt without that text was not made from this pack. Replays of
// recorded conversations (provider "eval") recorded another run's prompt
// and are not checked.
func CheckIdentity(ids []Identity, p Pack) error {
	var matchers [][]string
	var names []string
	for pid, ts := range p.Templates {
		names = append(names, pid)
		for _, t := range ts {
			matchers = append(matchers, literals(t))
		}
	}
	sort.Strings(names)
	for _, id := range ids {
		if id.PromptPack != "" && id.PromptPack != p.ID && id.PromptPack != p.Name {
			return fmt.Errorf("%w: %s names the pack %q; this deploy's pack is %s", ErrOtherPack, runLabel(id), id.PromptPack, p.label())
		}
	}
	if len(matchers) == 0 {
		return nil
	}
	for _, id := range ids {
		if len(id.SystemPrompts) == 0 || id.Provider == "eval" {
			continue
		}
		if matchesAny(id.SystemPrompts, matchers) {
			continue
		}
		return fmt.Errorf("%w: %s ran with the system prompt %q, which none of the %d prompts of this deploy's pack %s (%s) renders to; "+
			"the results were made with other prompts, or the pack was not compiled again after its prompts changed",
			ErrOtherPack, runLabel(id), excerpt(id.SystemPrompts[0], 100), len(names), p.label(), strings.Join(names, ", "))
	}
	return nil
}

func runLabel(id Identity) string {
	if id.Scenario == "" {
		return id.RunID
	}
	return "the run " + id.RunID + " (scenario " + id.Scenario + ")"
}

func matchesAny(prompts []string, matchers [][]string) bool {
	for _, sp := range prompts {
		text := normalize(sp)
		for _, m := range matchers {
			if inOrder(text, m) {
				return true
			}
		}
	}
	return false
}

// literals are a template's texts between {{placeholders}}, white space
// collapsed.
func literals(t string) []string {
	var out []string
	for {
		i := strings.Index(t, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(t[i:], "}}")
		if j < 0 {
			break
		}
		if s := normalize(t[:i]); s != "" {
			out = append(out, s)
		}
		t = t[i+j+2:]
	}
	if s := normalize(t); s != "" {
		out = append(out, s)
	}
	return out
}

func inOrder(text string, parts []string) bool {
	for _, p := range parts {
		i := strings.Index(text, p)
		if i < 0 {
			return false
		}
		text = text[i+len(p):]
	}
	return true
}

func normalize(s string) string { return strings.Join(strings.Fields(s), " ") }

func excerpt(s string, n int) string {
	s = normalize(s)
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func shortID(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
