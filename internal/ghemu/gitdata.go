package ghemu

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// gitStore is a repository's Git objects and branch heads, as the Git Data
// API sees them. Trees are kept flat (full path → blob sha): the API lets a
// client create nested paths in one request, and nothing here needs the
// intermediate tree objects to be addressable.
type gitStore struct {
	blobs    map[string][]byte
	trees    map[string]map[string]string
	commits  map[string]*gitCommit
	heads    map[string]string // branch → commit sha
	mainline []string          // the default branch's history, oldest first (compare)
	rules    map[string]int    // branch → the status a write to it gets
	rulesets []Ruleset
}

// Ruleset is a repository ruleset: Rules (types: update, creation,
// deletion, non_fast_forward, pull_request, ...) apply to the branches
// matching Branches (path.Match patterns), and refuse writes by anyone but
// the Bypass logins (update and pull_request: any write; creation: a new
// branch).
type Ruleset struct {
	ID       int64
	Name     string
	Branches []string
	Rules    []string
	Bypass   []string
}

func (rs *Ruleset) applies(branch string) bool {
	for _, p := range rs.Branches {
		if ok, _ := path.Match(p, branch); ok {
			return true
		}
	}
	return false
}

func (rs *Ruleset) has(rule string) bool {
	for _, r := range rs.Rules {
		if r == rule {
			return true
		}
	}
	return false
}

func (rs *Ruleset) bypasses(login string) bool {
	for _, b := range rs.Bypass {
		if b == login {
			return true
		}
	}
	return false
}

// AddRuleset adds a ruleset to the default repo.
func (s *Server) AddRuleset(rs Ruleset) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.repo().gitdb()
	if rs.ID == 0 {
		rs.ID = s.id()
	}
	g.rulesets = append(g.rulesets, rs)
}

// ruleRefusal is the answer rulesets give a write to branch by tok (0:
// allowed); creating says the write creates the branch.
func (r *Repo) ruleRefusal(branch string, tok *Token, creating bool) (int, string) {
	if r.git == nil || tok == nil {
		return 0, ""
	}
	for _, rs := range r.git.rulesets {
		if !rs.applies(branch) || rs.bypasses(tok.Login) {
			continue
		}
		switch {
		case creating && rs.has("creation"):
			return 409, "Repository rule violations found\n\nCannot create ref due to creations being restricted.\n\n"
		case !creating && rs.has("update"):
			return 409, "Repository rule violations found\n\nCannot update this protected ref.\n\n"
		case rs.has("pull_request"):
			return 409, "Repository rule violations found\n\nChanges must be made through a pull request.\n\n"
		}
	}
	return 0, ""
}

// getBranchRules answers GET rules/branches/{branch}: the rules of every
// ruleset matching it.
func (s *Server) getBranchRules(c *call) (int, any) {
	branch := c.r.PathValue("branch")
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	g := c.repo.gitdb()
	for _, rs := range g.rulesets {
		if !rs.applies(branch) {
			continue
		}
		for _, rule := range rs.Rules {
			m := map[string]any{"type": rule, "ruleset_source_type": "Repository", "ruleset_source": c.repo.FullName(), "ruleset_id": rs.ID}
			switch rule {
			case "update":
				m["parameters"] = map[string]any{"update_allows_fetch_and_merge": false}
			case "pull_request":
				m["parameters"] = map[string]any{"dismiss_stale_reviews_on_push": false, "require_code_owner_review": false,
					"require_last_push_approval": false, "required_approving_review_count": 1, "required_review_thread_resolution": false}
			}
			out = append(out, m)
		}
	}
	return 200, out
}

type gitCommit struct {
	SHA     string
	Tree    string
	Parents []string
	Message string
	Author  string // login; "" is the github-actions bot
}

func (r *Repo) gitdb() *gitStore {
	if r.git == nil {
		r.git = &gitStore{blobs: map[string][]byte{}, trees: map[string]map[string]string{}, commits: map[string]*gitCommit{},
			heads: map[string]string{}, rules: map[string]int{}}
	}
	return r.git
}

func hashOf(kind string, parts ...string) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s\x00", kind)
	for _, p := range parts {
		fmt.Fprintf(h, "%s\x00", p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (g *gitStore) putTree(entries map[string]string) string {
	paths := make([]string, 0, len(entries))
	for p := range entries {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	parts := make([]string, 0, len(paths))
	for _, p := range paths {
		parts = append(parts, p+" "+entries[p])
	}
	sha := hashOf("tree", parts...)
	g.trees[sha] = entries
	return sha
}

func (g *gitStore) putCommit(tree string, parents []string, message string) *gitCommit {
	c := &gitCommit{Tree: tree, Parents: parents, Message: message}
	c.SHA = hashOf("commit", append([]string{tree, message}, parents...)...)
	g.commits[c.SHA] = c
	return c
}

// commitFiles records a branch's files, as changed through the contents
// API or seeded, as a commit on top of the branch head; it returns its sha.
func (s *Server) commitFiles(r *Repo, branch, message string) string {
	g := r.gitdb()
	entries := map[string]string{}
	for p, f := range r.files[branch] {
		g.blobs[f.SHA] = f.Content
		entries[p] = f.SHA
	}
	var parents []string
	if h := g.heads[branch]; h != "" {
		parents = []string{h}
	}
	c := g.putCommit(g.putTree(entries), parents, message+fmt.Sprintf("\x00%d", s.id()))
	g.heads[branch] = c.SHA
	return c.SHA
}

// setHead moves a branch to commit sha and makes its files the commit's.
func (r *Repo) setHead(branch, sha string) {
	g := r.gitdb()
	c := g.commits[sha]
	g.heads[branch] = sha
	r.files[branch] = r.filesOf(c.Tree)
	r.commits[branch] = append(r.commits[branch], Commit{SHA: sha, Message: strings.SplitN(c.Message, "\x00", 2)[0]})
}

func (r *Repo) filesOf(tree string) map[string]*File {
	g := r.gitdb()
	files := map[string]*File{}
	for p, b := range g.trees[tree] {
		files[p] = &File{Path: p, Content: g.blobs[b], SHA: b}
	}
	return files
}

// filesAt is the files of a commit sha (nil if there is none).
func (r *Repo) filesAt(ref string) map[string]*File {
	if r.git == nil {
		return nil
	}
	if c := r.git.commits[ref]; c != nil {
		return r.filesOf(c.Tree)
	}
	return nil
}

// refused is the answer a write to branch gets from its rules: a ruleset
// (409), classic branch protection (422) or a token that may not push
// (403). 0: allowed.
func (r *Repo) refused(branch string, tok *Token) (int, string) {
	if r.git == nil {
		return 0, ""
	}
	if st, msg := r.ruleRefusal(branch, tok, r.git.heads[branch] == ""); st != 0 {
		return st, msg
	}
	switch st := r.git.rules[branch]; st {
	case 409:
		return 409, "Repository rule violations found\n\nChanges must be made through a pull request.\n\n"
	case 422:
		return 422, "Protected branch update failed for refs/heads/" + branch + "."
	case 403:
		return 403, "Permission to " + r.FullName() + ".git denied to github-actions[bot]."
	}
	return 0, ""
}

// Protect makes writes to branch fail with status: 409 (a ruleset's "Repository
// rule violations found"), 422 (classic protection) or 403; 0 lifts it.
func (s *Server) Protect(branch string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repo().gitdb().rules[branch] = status
}

// Head is the commit a branch of the default repo points to ("" if none).
func (s *Server) Head(branch string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.repo().gitdb().heads[branch]
}

// Parents is the parent list of a commit of the default repo.
func (s *Server) Parents(sha string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.repo().gitdb().commits[sha]; c != nil {
		return append([]string(nil), c.Parents...)
	}
	return nil
}

// Mainline appends commits to the default branch's history (the commits
// the compare API orders); shas already there are left where they are.
func (s *Server) Mainline(shas ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repo().addMainline(shas...)
}

// before is the commit the default branch pointed to before sha was
// pushed (a push event's "before"), zeros for the first.
func (s *Server) before(sha string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := strings.Repeat("0", 40)
	for _, m := range s.repo().gitdb().mainline {
		if m == sha {
			return prev
		}
		prev = m
	}
	return prev
}

func (r *Repo) addMainline(shas ...string) {
	g := r.gitdb()
	for _, sha := range shas {
		found := false
		for _, m := range g.mainline {
			found = found || m == sha
		}
		if !found {
			g.mainline = append(g.mainline, sha)
		}
	}
}

func (s *Server) gitRoutes(handle func(pattern, scope, level string, h handlerFunc)) {
	const repo = "/repos/{owner}/{repo}"
	handle("GET "+repo+"/branches/{branch}", "contents", Read, s.getBranch)
	handle("GET "+repo+"/git/ref/{ref...}", "contents", Read, s.getRef)
	handle("POST "+repo+"/git/refs", "contents", Write, s.createRef)
	handle("PATCH "+repo+"/git/refs/{ref...}", "contents", Write, s.updateRef)
	handle("POST "+repo+"/git/blobs", "contents", Write, s.createBlob)
	handle("GET "+repo+"/git/blobs/{file_sha}", "contents", Read, s.getBlob)
	handle("POST "+repo+"/git/trees", "contents", Write, s.createTree)
	handle("GET "+repo+"/git/trees/{tree_sha}", "contents", Read, s.getTree)
	handle("POST "+repo+"/git/commits", "contents", Write, s.createCommit)
	handle("GET "+repo+"/git/commits/{commit_sha}", "contents", Read, s.getCommit)
	handle("GET "+repo+"/compare/{basehead}", "contents", Read, s.compare)
	handle("GET "+repo+"/commits", "contents", Read, s.listCommits)
	handle("GET "+repo+"/rules/branches/{branch}", "metadata", Read, s.getBranchRules)
}

// gitUser is a commit's author or committer as git records it.
func gitUser(login string, at time.Time) map[string]any {
	if login == "" {
		login = BotLogin
	}
	return map[string]any{"name": login, "email": login + "@users.noreply.github.com", "date": ts(at)}
}

// listCommits lists the commits of a branch (or from a commit), newest
// first along first parents, only those that changed path when it is
// given: "the commit that last wrote this file".
func (s *Server) listCommits(c *call) (int, any) {
	q := c.r.URL.Query()
	ref, p := q.Get("sha"), q.Get("path")
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 {
		per = 30
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := c.repo.gitdb()
	if ref == "" {
		ref = c.repo.DefaultBranch
	}
	cur := g.heads[ref]
	if cur == "" && g.commits[ref] != nil {
		cur = ref
	}
	if cur == "" {
		return c.fail(404, "No commit found for SHA: "+ref)
	}
	out := []any{}
	for cur != "" && len(out) < per {
		gc := g.commits[cur]
		if gc == nil {
			break
		}
		before := ""
		if len(gc.Parents) > 0 {
			if pc := g.commits[gc.Parents[0]]; pc != nil {
				before = g.trees[pc.Tree][p]
			}
		}
		if p == "" || g.trees[gc.Tree][p] != before {
			out = append(out, c.restCommitJSON(gc))
		}
		cur = ""
		if len(gc.Parents) > 0 {
			cur = gc.Parents[0]
		}
	}
	return 200, out
}

// restCommitJSON is a commit as the commits API lists it.
func (c *call) restCommitJSON(gc *gitCommit) map[string]any {
	parents := []any{}
	for _, p := range gc.Parents {
		parents = append(parents, map[string]any{"sha": p, "url": c.base() + "/commits/" + p, "html_url": "https://github.com/" + c.repo.FullName() + "/commit/" + p})
	}
	login := gc.Author
	if login == "" {
		login = BotLogin
	}
	who := gitUser(login, c.s.now)
	return map[string]any{"sha": gc.SHA, "node_id": "C_" + gc.SHA[:8], "url": c.base() + "/commits/" + gc.SHA,
		"html_url": "https://github.com/" + c.repo.FullName() + "/commit/" + gc.SHA, "comments_url": c.base() + "/commits/" + gc.SHA + "/comments",
		"commit": map[string]any{"url": c.base() + "/git/commits/" + gc.SHA, "author": who, "committer": who, "comment_count": 0,
			"message": strings.SplitN(gc.Message, "\x00", 2)[0], "tree": map[string]any{"sha": gc.Tree, "url": c.base() + "/git/trees/" + gc.Tree}},
		"author": c.s.user(login), "committer": c.s.user(login), "parents": parents}
}

func (c *call) refJSON(name, sha string) map[string]any {
	return map[string]any{"ref": "refs/heads/" + name, "node_id": "REF_" + sha[:8], "url": c.base() + "/git/refs/heads/" + name,
		"object": map[string]any{"type": "commit", "sha": sha, "url": c.base() + "/git/commits/" + sha}}
}

func (c *call) commitJSON(gc *gitCommit) map[string]any {
	parents := []any{}
	for _, p := range gc.Parents {
		parents = append(parents, map[string]any{"sha": p, "url": c.base() + "/git/commits/" + p, "html_url": "https://github.com/" + c.repo.FullName() + "/commit/" + p})
	}
	who := gitUser(gc.Author, c.s.now)
	return map[string]any{"sha": gc.SHA, "node_id": "C_" + gc.SHA[:8], "url": c.base() + "/git/commits/" + gc.SHA,
		"html_url": "https://github.com/" + c.repo.FullName() + "/commit/" + gc.SHA, "author": who, "committer": who,
		"message": strings.SplitN(gc.Message, "\x00", 2)[0], "tree": map[string]any{"sha": gc.Tree, "url": c.base() + "/git/trees/" + gc.Tree},
		"parents":      parents,
		"verification": map[string]any{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil, "verified_at": nil}}
}

func branchOf(ref string) (string, bool) {
	ref = strings.TrimPrefix(ref, "refs/")
	b, ok := strings.CutPrefix(ref, "heads/")
	return b, ok && b != ""
}

func (s *Server) getBranch(c *call) (int, any) {
	name := c.r.PathValue("branch")
	s.mu.Lock()
	defer s.mu.Unlock()
	g := c.repo.gitdb()
	sha := g.heads[name]
	if sha == "" {
		return c.fail(404, "Branch not found")
	}
	gc := g.commits[sha]
	return 200, map[string]any{"name": name, "protected": g.rules[name] != 0,
		"commit": map[string]any{"sha": sha, "node_id": "C_" + sha[:8], "url": c.base() + "/commits/" + sha, "commit": c.commitJSON(gc)}}
}

func (s *Server) getRef(c *call) (int, any) {
	name, ok := branchOf(c.r.PathValue("ref"))
	s.mu.Lock()
	defer s.mu.Unlock()
	sha := c.repo.gitdb().heads[name]
	if !ok || sha == "" {
		return c.fail(404, "Not Found")
	}
	return 200, c.refJSON(name, sha)
}

func (s *Server) createRef(c *call) (int, any) {
	var in struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if err := c.decode(&in); err != nil {
		return c.fail(400, "Problems parsing JSON")
	}
	name, ok := branchOf(in.Ref)
	if !ok || !strings.HasPrefix(in.Ref, "refs/") {
		return c.fail(422, "Reference name must start with 'refs/' and have at least two slashes.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := c.repo.gitdb()
	if g.heads[name] != "" {
		return c.fail(422, "Reference already exists")
	}
	if g.commits[in.SHA] == nil {
		return c.fail(422, "Object does not exist")
	}
	if st, msg := c.repo.refused(name, c.token); st != 0 {
		return c.fail(st, msg)
	}
	c.repo.setHead(name, in.SHA)
	return 201, c.refJSON(name, in.SHA)
}

// descends says whether commit sha has anc in its history.
func (g *gitStore) descends(sha, anc string) bool {
	seen := map[string]bool{}
	queue := []string{sha}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur == anc {
			return true
		}
		if seen[cur] || g.commits[cur] == nil {
			continue
		}
		seen[cur] = true
		queue = append(queue, g.commits[cur].Parents...)
	}
	return false
}

func (s *Server) updateRef(c *call) (int, any) {
	var in struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if err := c.decode(&in); err != nil {
		return c.fail(400, "Problems parsing JSON")
	}
	name, ok := branchOf(c.r.PathValue("ref"))
	s.mu.Lock()
	defer s.mu.Unlock()
	g := c.repo.gitdb()
	cur := g.heads[name]
	switch {
	case !ok || cur == "":
		return c.fail(422, "Reference does not exist")
	case g.commits[in.SHA] == nil:
		return c.fail(422, "Object does not exist")
	case !in.Force && !g.descends(in.SHA, cur):
		return c.fail(422, "Update is not a fast forward")
	}
	if st, msg := c.repo.refused(name, c.token); st != 0 {
		return c.fail(st, msg)
	}
	if cur != in.SHA {
		c.repo.setHead(name, in.SHA)
	}
	return 200, c.refJSON(name, in.SHA)
}

func (s *Server) createBlob(c *call) (int, any) {
	var in struct {
		Content  string `json:"content"`
		Encoding string `json:"encoding"`
	}
	if err := c.decode(&in); err != nil {
		return c.fail(400, "Problems parsing JSON")
	}
	data := []byte(in.Content)
	if in.Encoding == "base64" {
		var err error
		if data, err = base64.StdEncoding.DecodeString(in.Content); err != nil {
			return c.fail(422, "content is not valid Base64")
		}
	}
	sha := BlobSHA(data)
	s.mu.Lock()
	defer s.mu.Unlock()
	c.repo.gitdb().blobs[sha] = data
	return 201, map[string]any{"sha": sha, "url": c.base() + "/git/blobs/" + sha}
}

func (s *Server) getBlob(c *call) (int, any) {
	sha := c.r.PathValue("file_sha")
	s.mu.Lock()
	defer s.mu.Unlock()
	data, ok := c.repo.gitdb().blobs[sha]
	if !ok {
		return c.fail(404, "Not Found")
	}
	if strings.Contains(c.r.Header.Get("Accept"), ".raw") { // the raw media type: the bytes as they are
		c.header.Set("Content-Type", "application/vnd.github.raw")
		c.header.Set("Content-Length", strconv.Itoa(len(data)))
		return 200, append([]byte(nil), data...)
	}
	return 200, map[string]any{"sha": sha, "node_id": "B_" + sha[:8], "size": len(data), "url": c.base() + "/git/blobs/" + sha,
		"content": base64.StdEncoding.EncodeToString(data), "encoding": "base64"}
}

func (s *Server) createTree(c *call) (int, any) {
	var in struct {
		BaseTree string `json:"base_tree"`
		Tree     []struct {
			Path    string  `json:"path"`
			Mode    string  `json:"mode"`
			Type    string  `json:"type"`
			SHA     *string `json:"sha"`
			Content *string `json:"content"`
		} `json:"tree"`
	}
	if err := c.decode(&in); err != nil {
		return c.fail(400, "Problems parsing JSON")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := c.repo.gitdb()
	entries := map[string]string{}
	if in.BaseTree != "" {
		base, ok := g.trees[in.BaseTree]
		if !ok {
			return c.fail(422, "base_tree is not a valid tree oid")
		}
		for p, b := range base {
			entries[p] = b
		}
	}
	for _, e := range in.Tree {
		switch {
		case e.Content != nil:
			data := []byte(*e.Content)
			sha := BlobSHA(data)
			g.blobs[sha] = data
			entries[e.Path] = sha
		case e.SHA == nil: // sha: null deletes the path
			if _, ok := entries[e.Path]; !ok {
				return c.fail(422, "GitRPC::BadObjectState")
			}
			delete(entries, e.Path)
		default:
			if _, ok := g.blobs[*e.SHA]; !ok {
				return c.fail(422, "tree.sha "+*e.SHA+" is not a valid blob")
			}
			entries[e.Path] = *e.SHA
		}
	}
	sha := g.putTree(entries)
	return 201, c.treeJSON(sha, entries)
}

func (c *call) treeJSON(sha string, entries map[string]string) map[string]any {
	paths := make([]string, 0, len(entries))
	for p := range entries {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	items := []any{}
	for _, p := range paths {
		b := entries[p]
		items = append(items, map[string]any{"path": p, "mode": "100644", "type": "blob", "sha": b,
			"size": len(c.repo.git.blobs[b]), "url": c.base() + "/git/blobs/" + b})
	}
	return map[string]any{"sha": sha, "url": c.base() + "/git/trees/" + sha, "truncated": false, "tree": items}
}

func (s *Server) getTree(c *call) (int, any) {
	sha := c.r.PathValue("tree_sha")
	s.mu.Lock()
	defer s.mu.Unlock()
	g := c.repo.gitdb()
	if cm := g.commits[sha]; cm != nil { // GitHub takes a commit here too
		sha = cm.Tree
	}
	entries, ok := g.trees[sha]
	if !ok {
		return c.fail(404, "Not Found")
	}
	return 200, c.treeJSON(sha, entries)
}

func (s *Server) createCommit(c *call) (int, any) {
	var in struct {
		Message string   `json:"message"`
		Tree    string   `json:"tree"`
		Parents []string `json:"parents"`
	}
	if err := c.decode(&in); err != nil {
		return c.fail(400, "Problems parsing JSON")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := c.repo.gitdb()
	if _, ok := g.trees[in.Tree]; !ok {
		return c.fail(422, "Tree SHA does not exist")
	}
	for _, p := range in.Parents {
		if g.commits[p] == nil {
			return c.fail(422, "Parent SHA does not exist or is not a commit object")
		}
	}
	gc := g.putCommit(in.Tree, in.Parents, in.Message)
	if c.token.Login != BotLogin {
		gc.Author = c.token.Login
	}
	return 201, c.commitJSON(gc)
}

func (s *Server) getCommit(c *call) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gc := c.repo.gitdb().commits[c.r.PathValue("commit_sha")]
	if gc == nil {
		return c.fail(404, "Not Found")
	}
	return 200, c.commitJSON(gc)
}

// compare orders two commits of the default branch's history (Mainline,
// MergePull and pushes add to it) or of the Git objects.
func (s *Server) compare(c *call) (int, any) {
	base, head, ok := strings.Cut(c.r.PathValue("basehead"), "...")
	if !ok {
		return c.fail(404, "Not Found")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := c.repo.gitdb()
	// A branch name is its head: the default branch's is the newest of
	// its history.
	for _, ref := range []*string{&base, &head} {
		if *ref == c.repo.DefaultBranch && len(g.mainline) > 0 {
			*ref = g.mainline[len(g.mainline)-1]
		}
	}
	bi, hi := -1, -1
	for i, m := range g.mainline {
		if m == base {
			bi = i
		}
		if m == head {
			hi = i
		}
	}
	status, ahead, behind := "", 0, 0
	switch {
	case bi >= 0 && hi >= 0:
		switch {
		case bi == hi:
			status = "identical"
		case bi < hi:
			status, ahead = "ahead", hi-bi
		default:
			status, behind = "behind", bi-hi
		}
	case g.commits[base] != nil && g.commits[head] != nil:
		switch {
		case base == head:
			status = "identical"
		case g.descends(head, base):
			status, ahead = "ahead", 1
		case g.descends(base, head):
			status, behind = "behind", 1
		default:
			status, ahead, behind = "diverged", 1, 1
		}
	default:
		return c.fail(404, "No common ancestor between "+base+" and "+head+".")
	}
	u := "https://github.com/" + c.repo.FullName() + "/compare/" + base + "..." + head
	out := map[string]any{"url": c.base() + "/compare/" + base + "..." + head, "html_url": u, "permalink_url": u,
		"diff_url": u + ".diff", "patch_url": u + ".patch", "status": status, "ahead_by": ahead, "behind_by": behind,
		"total_commits": ahead, "commits": []any{}}
	// Commits with trees (CommitTree) list the files their change touched.
	if files, mergeBase, ok := c.compareFiles(g, base, head); ok {
		out["files"] = files
		out["merge_base_commit"] = map[string]any{"sha": mergeBase}
	}
	return 200, out
}
