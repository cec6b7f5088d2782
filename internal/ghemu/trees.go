package ghemu

import (
	"sort"
)

// CommitTree commits files onto branch of the default repo (a nil content
// deletes the path), on top of the branch's head, and returns the commit:
// a real commit with a tree, so the compare API lists the files a change
// touched and the trees API lists a commit's files. A commit on the
// default branch joins its history (the commits compare orders).
func (s *Server) CommitTree(branch string, files map[string][]byte, message string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repo()
	g := r.gitdb()
	entries := map[string]string{}
	var parents []string
	if h := g.heads[branch]; h != "" {
		parents = []string{h}
		for p, b := range g.trees[g.commits[h].Tree] {
			entries[p] = b
		}
	} else if h := g.heads[r.DefaultBranch]; h != "" && branch != r.DefaultBranch {
		// A new branch starts from the default branch, as git checkout -b does.
		parents = []string{h}
		for p, b := range g.trees[g.commits[h].Tree] {
			entries[p] = b
		}
	}
	for p, content := range files {
		if content == nil {
			delete(entries, p)
			continue
		}
		sha := BlobSHA(content)
		g.blobs[sha] = append([]byte(nil), content...)
		entries[p] = sha
	}
	c := g.putCommit(g.putTree(entries), parents, message)
	r.setHead(branch, c.SHA)
	if branch == r.DefaultBranch {
		r.addMainline(c.SHA)
	}
	return c.SHA
}

// compareFiles is the files entry of a comparison of two commits that
// have trees: what changed from their merge base to head, in path order,
// at most 300 as GitHub lists them ("it includes up to 300 changed files
// for the entire comparison"); ok is false when either has no tree.
func (c *call) compareFiles(g *gitStore, base, head string) (files []any, mergeBase string, ok bool) {
	if g.commits[base] == nil || g.commits[head] == nil {
		return nil, "", false
	}
	mergeBase = g.mergeBase(base, head)
	from := map[string]string{}
	if mb := g.commits[mergeBase]; mb != nil {
		from = g.trees[mb.Tree]
	}
	to := g.trees[g.commits[head].Tree]
	var paths []string
	for p, b := range to {
		if from[p] != b {
			paths = append(paths, p)
		}
	}
	for p := range from {
		if _, kept := to[p]; !kept {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	files = []any{}
	for _, p := range paths {
		if len(files) == 300 {
			break
		}
		status, sha := "modified", to[p]
		switch {
		case from[p] == "":
			status = "added"
		case sha == "":
			status, sha = "removed", from[p]
		}
		u := "https://github.com/" + c.repo.FullName() + "/blob/" + head + "/" + p
		files = append(files, map[string]any{"sha": sha, "filename": p, "status": status, "additions": 1, "deletions": 1, "changes": 2,
			"blob_url": u, "raw_url": u, "contents_url": c.base() + "/contents/" + p + "?ref=" + head})
	}
	return files, mergeBase, true
}

// mergeBase is the nearest commit both a and b have in their history
// ("" when none).
func (g *gitStore) mergeBase(a, b string) string {
	ofA := map[string]bool{}
	queue := []string{a}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if ofA[cur] || g.commits[cur] == nil {
			continue
		}
		ofA[cur] = true
		queue = append(queue, g.commits[cur].Parents...)
	}
	seen := map[string]bool{}
	queue = []string{b}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if ofA[cur] {
			return cur
		}
		if seen[cur] || g.commits[cur] == nil {
			continue
		}
		seen[cur] = true
		queue = append(queue, g.commits[cur].Parents...)
	}
	return ""
}
