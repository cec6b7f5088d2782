package localadapter

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// errOutside is matched when a path from the state or the pack is not
// inside the configured target_dir.
var errOutside = errors.New("outside target_dir")

// within resolves rel (relative to BaseDir, or absolute) and says whether
// it lies inside the configured target directory: lexically, and with the
// symlinks of its existing parent directories resolved, so neither "..",
// an absolute path nor a linked directory leads out.
func (p *Provider) within(targetDir, rel string) (string, error) {
	return p.withinResolved(targetDir, rel, filepath.EvalSymlinks)
}

// withinResolved is within with the symlinks resolved by eval.
func (p *Provider) withinResolved(targetDir, rel string, eval func(string) (string, error)) (string, error) {
	root := p.abs(targetDir)
	abs := p.abs(rel)
	if !inside(root, abs) {
		return "", fmt.Errorf("%w: %s is not inside %s", errOutside, rel, targetDir)
	}
	realRoot, err := eval(root)
	if errors.Is(err, fs.ErrNotExist) {
		return abs, nil // nothing there yet: nothing to follow
	}
	if err != nil {
		return "", err
	}
	parent, err := eval(filepath.Dir(abs))
	if err == nil && !inside(realRoot, filepath.Join(parent, filepath.Base(abs))) {
		return "", fmt.Errorf("%w: %s leads to %s through a symbolic link", errOutside, rel, parent)
	}
	return abs, nil
}

func inside(root, abs string) bool {
	r, err := filepath.Rel(root, abs)
	return err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) && !filepath.IsAbs(r)
}

// fence refuses a prior state (and desired resources) naming any file
// outside the configured target_dir: whatever a state says (an old
// target_dir, a planted state), this adapter reads, writes and deletes
// only there.
func (p *Provider) fence(cfg config, prior *state, want []desired) error {
	// Every resource of a pack lies in the same few directories: each is
	// resolved once per check, not once per prompt (50,000 prompts were a
	// million system calls).
	type resolved struct {
		path string
		err  error
	}
	seen := map[string]resolved{}
	eval := func(dir string) (string, error) {
		r, ok := seen[dir]
		if !ok {
			r.path, r.err = filepath.EvalSymlinks(dir)
			seen[dir] = r
		}
		return r.path, r.err
	}
	for _, k := range sortedKeys(prior.Resources) {
		if _, err := p.withinResolved(cfg.TargetDir, prior.Resources[k].Path, eval); err != nil {
			return fmt.Errorf("prior_state names a file the adapter will not touch: %w. If target_dir changed, destroy the old deploy first (or move its files and the state by hand)", err)
		}
	}
	if prior.TargetDir != "" && len(prior.Resources) > 0 && !inside(p.abs(cfg.TargetDir), p.abs(prior.TargetDir)) && p.abs(cfg.TargetDir) != p.abs(prior.TargetDir) {
		return fmt.Errorf("prior_state is for target_dir %s, not %s: %w", prior.TargetDir, cfg.TargetDir, errOutside)
	}
	// A file named plainly in a directory found inside is inside: each
	// directory is checked once, with its first file (50,000 prompts in
	// one directory were 50,000 checks).
	inDir := map[string]bool{}
	for _, w := range want {
		dir, base := filepath.Split(w.Path)
		plain := base != "" && base != "." && base != ".."
		if plain && inDir[dir] {
			continue
		}
		if _, err := p.withinResolved(cfg.TargetDir, w.Path, eval); err != nil {
			return fmt.Errorf("the pack names a resource the adapter will not write: %w", err)
		}
		if plain {
			inDir[dir] = true
		}
	}
	return nil
}
