package ghemu

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	const repo = "/repos/{owner}/{repo}"
	rw := "issues|pull_requests"
	handle := func(pattern, scope, level string, h handlerFunc) { mux.Handle(s.rest(pattern, scope, level, h)) }
	// The two GET routes overlap for ServeMux (".../issues/comments/comments"),
	// so one pattern serves both and picks by the path, as GitHub's router does.
	_, list := s.rest("GET "+repo+"/issues/{issue_number}/comments", rw, Read, s.listComments)
	_, get := s.rest("GET "+repo+"/issues/comments/{comment_id}", rw, Read, s.getComment)
	mux.HandleFunc("GET "+repo+"/issues/{issue_number}/{sub}", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.PathValue("issue_number") == "comments":
			r.SetPathValue("comment_id", r.PathValue("sub"))
			get.ServeHTTP(w, r)
		case r.PathValue("sub") == "comments":
			list.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
	handle("POST "+repo+"/issues/{issue_number}/comments", rw, Write, s.createComment)
	handle("PATCH "+repo+"/issues/comments/{comment_id}", rw, Write, s.updateComment)
	handle("DELETE "+repo+"/issues/comments/{comment_id}", rw, Write, s.deleteComment)
	handle("GET "+repo+"/commits/{commit_sha}/pulls", "pull_requests|contents", Read, s.commitPulls)
	handle("GET "+repo+"/pulls/{pull_number}", "pull_requests|contents", Read, s.getPull)
	handle("GET "+repo+"/actions/runs", "actions", Read, s.listRuns)
	handle("GET "+repo+"/actions/runs/{run_id}", "actions", Read, s.getRun)
	handle("GET "+repo+"/actions/runs/{run_id}/artifacts", "actions", Read, s.listRunArtifacts)
	handle("GET "+repo+"/actions/artifacts", "actions", Read, s.listArtifacts)
	handle("GET "+repo+"/actions/artifacts/{artifact_id}", "actions", Read, s.getArtifact)
	handle("DELETE "+repo+"/actions/artifacts/{artifact_id}", "actions", Write, s.deleteArtifact)
	handle("GET "+repo+"/actions/artifacts/{artifact_id}/{archive_format}", "actions", Read, s.downloadArtifact)
	handle("GET "+repo+"/contents/{path...}", "contents", Read, s.getContents)
	handle("PUT "+repo+"/contents/{path...}", "contents", Write, s.putContents)
	// Not in the OpenAPI subset: served, but recorded as unchecked.
	mux.Handle(s.unchecked("DELETE "+repo+"/contents/{path...}", "contents", Write, s.deleteContents))
	handle("GET "+repo+"/issues", "issues", Read, s.listIssues)
	handle("POST "+repo+"/issues", "issues", Write, s.createIssue)
	handle("GET "+repo+"/issues/{issue_number}", "issues", Read, s.getIssue)
	handle("PATCH "+repo+"/issues/{issue_number}", "issues", Write, s.updateIssue)
	s.gitRoutes(handle)
	s.deploymentRoutes(handle)
	handle("GET "+repo+"/releases/tags/{tag}", "contents", Read, s.releaseByTag)
	mux.Handle(s.unchecked("GET "+repo+"/releases/latest", "contents", Read, s.latestRelease))
	handle("GET "+repo+"/releases/assets/{asset_id}", "contents", Read, s.getAsset)
	s.userRoutes(mux)
	s.resultsRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.violate(r, "route", "the emulator does not serve this endpoint")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		_, _ = w.Write([]byte(`{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`))
	})
	return mux
}

// authorize accepts any one of the scopes separated by "|".
func permitted(perms map[string]string, scopes, level string) bool {
	for _, sc := range strings.Split(scopes, "|") {
		have := perms[sc]
		if have == Write || (have == Read && level == Read) {
			return true
		}
	}
	return false
}

func (s *Server) user(login string) map[string]any {
	typ := "User"
	if strings.HasSuffix(login, "[bot]") {
		typ = "Bot"
	}
	return map[string]any{"login": login, "id": int64(len(login)) * 7919, "type": typ,
		"html_url": "https://github.com/" + url.PathEscape(login), "site_admin": false}
}

func (c *call) base() string {
	return c.s.URL + "/repos/" + c.repo.FullName()
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (c *call) intParam(name string) (int64, bool) {
	n, err := strconv.ParseInt(c.r.PathValue(name), 10, 64)
	return n, err == nil
}

// paginate cuts items by per_page and page and sets GitHub's Link header.
func (c *call) paginate(items []any) []any {
	q := c.r.URL.Query()
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 {
		per = 30
	}
	if per > 100 {
		per = 100
	}
	page, _ := strconv.Atoi(q.Get("page"))
	if page <= 0 {
		page = 1
	}
	last := (len(items) + per - 1) / per
	if last == 0 {
		last = 1
	}
	link := func(p int, rel string) string {
		u := cloneURL(c.r.URL)
		u.Scheme, u.Host = "http", c.r.Host
		v := u.Query()
		v.Set("per_page", strconv.Itoa(per))
		v.Set("page", strconv.Itoa(p))
		u.RawQuery = v.Encode()
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(page-1, "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		c.header.Set("Link", strings.Join(links, ", "))
	}
	start := (page - 1) * per
	if start >= len(items) {
		return []any{}
	}
	end := start + per
	if end > len(items) {
		end = len(items)
	}
	return items[start:end]
}

// --- comments

func (c *call) commentJSON(cm *Comment) map[string]any {
	return map[string]any{
		"id": cm.ID, "node_id": fmt.Sprintf("IC_%d", cm.ID), "body": cm.Body, "user": c.s.user(cm.User),
		"created_at": ts(cm.CreatedAt), "updated_at": ts(cm.UpdatedAt),
		"url":                c.base() + "/issues/comments/" + strconv.FormatInt(cm.ID, 10),
		"html_url":           fmt.Sprintf("https://github.com/%s/pull/%d#issuecomment-%d", c.repo.FullName(), cm.Issue, cm.ID),
		"issue_url":          fmt.Sprintf("%s/issues/%d", c.base(), cm.Issue),
		"author_association": "NONE",
	}
}

func (s *Server) listComments(c *call) (int, any) {
	n, _ := c.intParam("issue_number")
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.repo.issues[int(n)] == nil {
		return c.fail(404, "Not Found")
	}
	var items []any
	for _, cm := range c.repo.comments {
		if cm.Issue == int(n) {
			items = append(items, c.commentJSON(cm))
		}
	}
	return 200, c.paginate(items)
}

func (s *Server) createComment(c *call) (int, any) {
	n, _ := c.intParam("issue_number")
	var in struct {
		Body *string `json:"body"`
	}
	if err := c.decode(&in); err != nil || in.Body == nil {
		return c.fail(422, "Invalid request.\n\n\"body\" wasn't supplied.")
	}
	if len(*in.Body) > 65536 {
		return c.fail(422, "Validation Failed: body is too long (maximum is 65536 characters)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.repo.issues[int(n)] == nil {
		return c.fail(404, "Not Found")
	}
	cm := &Comment{ID: s.id(), Issue: int(n), Body: *in.Body, User: c.token.Login, CreatedAt: s.now, UpdatedAt: s.now}
	c.repo.comments = append(c.repo.comments, cm)
	return 201, c.commentJSON(cm)
}

func (c *call) findComment() *Comment {
	id, _ := c.intParam("comment_id")
	for _, cm := range c.repo.comments {
		if cm.ID == id {
			return cm
		}
	}
	return nil
}

func (s *Server) getComment(c *call) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cm := c.findComment()
	if cm == nil {
		return c.fail(404, "Not Found")
	}
	return 200, c.commentJSON(cm)
}

func (s *Server) updateComment(c *call) (int, any) {
	var in struct {
		Body *string `json:"body"`
	}
	if err := c.decode(&in); err != nil || in.Body == nil {
		return c.fail(422, "Invalid request.\n\n\"body\" wasn't supplied.")
	}
	if len(*in.Body) > 65536 {
		return c.fail(422, "Validation Failed: body is too long (maximum is 65536 characters)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cm := c.findComment()
	if cm == nil {
		return c.fail(404, "Not Found")
	}
	if cm.User != c.token.Login {
		return c.fail(403, "Resource not accessible by integration")
	}
	cm.Body, cm.UpdatedAt = *in.Body, s.now
	return 200, c.commentJSON(cm)
}

func (s *Server) deleteComment(c *call) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cm := c.findComment()
	if cm == nil {
		return c.fail(404, "Not Found")
	}
	for i, x := range c.repo.comments {
		if x == cm {
			c.repo.comments = append(c.repo.comments[:i], c.repo.comments[i+1:]...)
			break
		}
	}
	return 204, nil
}

// --- pulls

func (c *call) pullJSON(p *Pull) map[string]any {
	var mergedAt any
	if p.Merged {
		mergedAt = ts(c.s.now)
	}
	var mergeSHA any
	if p.MergeCommitSHA != "" {
		mergeSHA = p.MergeCommitSHA
	}
	headOwner, headName, _ := cut(p.HeadRepo)
	baseOwner, baseName := c.repo.Owner, c.repo.Name
	if p.BaseRepo != "" {
		baseOwner, baseName, _ = cut(p.BaseRepo)
	}
	ref := func(label, r, sha, owner, name string) map[string]any {
		return map[string]any{"label": label, "ref": r, "sha": sha, "user": c.s.user(owner),
			"repo": map[string]any{"id": c.repo.ID, "name": name, "full_name": owner + "/" + name, "owner": c.s.user(owner), "private": true, "fork": owner != c.repo.Owner}}
	}
	return map[string]any{
		"id": int64(p.Number) + 500000, "number": p.Number, "state": p.State, "title": p.Title, "user": c.s.user(p.User),
		"url":      fmt.Sprintf("%s/pulls/%d", c.base(), p.Number),
		"html_url": fmt.Sprintf("https://github.com/%s/pull/%d", c.repo.FullName(), p.Number),
		"merged":   p.Merged, "merged_at": mergedAt, "merge_commit_sha": mergeSHA,
		"head": ref(headOwner+":"+p.HeadRef, p.HeadRef, p.HeadSHA, headOwner, headName),
		"base": ref(baseOwner+":"+p.BaseRef, p.BaseRef, p.BaseSHA, baseOwner, baseName),
	}
}

func (s *Server) commitPulls(c *call) (int, any) {
	sha := c.r.PathValue("commit_sha")
	s.mu.Lock()
	defer s.mu.Unlock()
	items := []any{}
	if c.repo.assocLag[sha] > 0 { // GitHub has not associated the commit yet
		c.repo.assocLag[sha]--
		return 200, c.paginate(items)
	}
	for _, p := range c.repo.foreignPulls[sha] {
		items = append(items, c.pullJSON(p))
	}
	for _, n := range c.repo.commitPulls[sha] {
		items = append(items, c.pullJSON(c.repo.pulls[n]))
	}
	return 200, c.paginate(items)
}

func (s *Server) getPull(c *call) (int, any) {
	n, _ := c.intParam("pull_number")
	s.mu.Lock()
	defer s.mu.Unlock()
	p := c.repo.pulls[int(n)]
	if p == nil {
		return c.fail(404, "Not Found")
	}
	return 200, c.pullJSON(p)
}

// --- runs and artifacts

func (c *call) runJSON(r *Run) map[string]any {
	var concl any
	if r.Conclusion != "" {
		concl = r.Conclusion
	}
	owner, name, _ := cut(r.HeadRepo)
	return map[string]any{
		"id": r.ID, "event": r.Event, "head_sha": r.HeadSHA, "head_branch": r.HeadBranch, "status": r.Status,
		"conclusion": concl, "run_attempt": r.Attempt, "created_at": ts(r.CreatedAt), "updated_at": ts(r.CreatedAt),
		"url":             fmt.Sprintf("%s/actions/runs/%d", c.base(), r.ID),
		"html_url":        fmt.Sprintf("https://github.com/%s/actions/runs/%d", c.repo.FullName(), r.ID),
		"head_repository": map[string]any{"id": c.repo.ID, "name": name, "full_name": r.HeadRepo, "owner": c.s.user(owner)},
		"repository":      map[string]any{"id": c.repo.ID, "name": c.repo.Name, "full_name": c.repo.FullName(), "owner": c.s.user(c.repo.Owner)},
	}
}

// getRun is one workflow run: its status (queued, in_progress, completed)
// and conclusion, as a lock holder's liveness is asked.
func (s *Server) getRun(c *call) (int, any) {
	id, err := strconv.ParseInt(c.r.PathValue("run_id"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range c.repo.runs {
		if err == nil && r.ID == id {
			return 200, c.runJSON(r)
		}
	}
	return c.fail(404, "Not Found")
}

func (s *Server) listRuns(c *call) (int, any) {
	q := c.r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	items := []any{}
	for i := len(c.repo.runs) - 1; i >= 0; i-- { // newest first
		r := c.repo.runs[i]
		if (q.Get("event") != "" && q.Get("event") != r.Event) || (q.Get("head_sha") != "" && q.Get("head_sha") != r.HeadSHA) {
			continue
		}
		if st := q.Get("status"); st != "" && st != r.Status && st != r.Conclusion {
			continue
		}
		items = append(items, c.runJSON(r))
	}
	total := len(items)
	return 200, map[string]any{"total_count": total, "workflow_runs": c.paginate(items)}
}

func (s *Server) runByID(id int64) *Run {
	for _, r := range s.repo().runs {
		if r.ID == id {
			return r
		}
	}
	return nil
}

func (c *call) artifactJSON(a *Artifact) map[string]any {
	run := c.s.runByID(a.RunID)
	out := map[string]any{
		"id": a.ID, "node_id": fmt.Sprintf("MDg6QXJ0aWZhY3Q%d", a.ID), "name": a.Name, "size_in_bytes": a.Size,
		"url":                  fmt.Sprintf("%s/actions/artifacts/%d", c.base(), a.ID),
		"archive_download_url": fmt.Sprintf("%s/actions/artifacts/%d/zip", c.base(), a.ID),
		"expired":              !c.s.now.Before(a.ExpiresAt), "created_at": ts(a.CreatedAt), "updated_at": ts(a.CreatedAt),
		"expires_at": ts(a.ExpiresAt), "digest": a.Digest,
	}
	if run != nil {
		hr := c.repo.ID
		if run.HeadRepo != c.repo.FullName() {
			hr = c.repo.ID + 1 // a fork's repository id
		}
		out["workflow_run"] = map[string]any{"id": run.ID, "repository_id": c.repo.ID, "head_repository_id": hr,
			"head_branch": run.HeadBranch, "head_sha": run.HeadSHA}
	}
	return out
}

func (c *call) artifactList(keep func(*Artifact) bool) (int, any) {
	items := []any{}
	arts := c.repo.artifacts
	for i := len(arts) - 1; i >= 0; i-- { // newest first
		a := arts[i]
		if a.Finalized && !a.Deleted && keep(a) {
			items = append(items, c.artifactJSON(a))
		}
	}
	total := len(items)
	return 200, map[string]any{"total_count": total, "artifacts": c.paginate(items)}
}

func (s *Server) listRunArtifacts(c *call) (int, any) {
	id, _ := c.intParam("run_id")
	name := c.r.URL.Query().Get("name")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runByID(id) == nil {
		return c.fail(404, "Not Found")
	}
	return c.artifactList(func(a *Artifact) bool { return a.RunID == id && (name == "" || a.Name == name) })
}

func (s *Server) listArtifacts(c *call) (int, any) {
	name := c.r.URL.Query().Get("name")
	s.mu.Lock()
	defer s.mu.Unlock()
	return c.artifactList(func(a *Artifact) bool { return name == "" || a.Name == name })
}

func (c *call) findArtifact() *Artifact {
	id, _ := c.intParam("artifact_id")
	for _, a := range c.repo.artifacts {
		if a.ID == id && a.Finalized && !a.Deleted {
			return a
		}
	}
	return nil
}

func (s *Server) getArtifact(c *call) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := c.findArtifact()
	if a == nil {
		return c.fail(404, "Not Found")
	}
	return 200, c.artifactJSON(a)
}

func (s *Server) deleteArtifact(c *call) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := c.findArtifact()
	if a == nil {
		return c.fail(404, "Not Found")
	}
	a.Deleted = true
	return 204, nil
}

func (s *Server) downloadArtifact(c *call) (int, any) {
	if c.r.PathValue("archive_format") != "zip" {
		return c.fail(404, "Not Found")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := c.findArtifact()
	if a == nil {
		return c.fail(404, "Not Found")
	}
	if !s.now.Before(a.ExpiresAt) {
		return c.fail(410, "Artifact has expired")
	}
	c.header.Set("Location", s.signedURL("download", a.blobKey, time.Minute))
	return 302, nil
}

// --- contents

func (c *call) contentJSON(f *File, branch string) map[string]any {
	enc := base64.StdEncoding.EncodeToString(f.Content)
	var lines []string
	for len(enc) > 60 { // GitHub wraps base64 content at 60 columns
		lines, enc = append(lines, enc[:60]), enc[60:]
	}
	lines = append(lines, enc)
	self := fmt.Sprintf("%s/contents/%s?ref=%s", c.base(), f.Path, branch)
	return map[string]any{
		"type": "file", "encoding": "base64", "size": len(f.Content), "name": lastSegment(f.Path), "path": f.Path,
		"content": strings.Join(lines, "\n") + "\n", "sha": f.SHA, "url": self,
		"git_url": c.base() + "/git/blobs/" + f.SHA, "html_url": "https://github.com/" + c.repo.FullName() + "/blob/" + branch + "/" + f.Path,
		"download_url": "https://raw.githubusercontent.test/" + c.repo.FullName() + "/" + branch + "/" + f.Path,
		"_links":       map[string]any{"self": self, "git": c.base() + "/git/blobs/" + f.SHA, "html": "https://github.com/" + c.repo.FullName() + "/blob/" + branch + "/" + f.Path},
	}
}

// dirJSON is a directory's listing, as GitHub answers for a folder: its
// files and sub-folders, without content, sorted by name; nil when no file
// is under dir.
func (c *call) dirJSON(files map[string]*File, dir, branch string) []map[string]any {
	prefix := strings.TrimSuffix(dir, "/") + "/"
	entries := map[string]map[string]any{}
	for p, f := range files {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		if sub, _, isDir := strings.Cut(rest, "/"); isDir {
			if entries[sub] == nil {
				self := fmt.Sprintf("%s/contents/%s%s?ref=%s", c.base(), prefix, sub, branch)
				entries[sub] = map[string]any{"type": "dir", "size": 0, "name": sub, "path": prefix + sub, "sha": hashOf("tree", prefix+sub),
					"url": self, "git_url": nil, "html_url": nil, "download_url": nil, "_links": map[string]any{"self": self, "git": nil, "html": nil}}
			}
			continue
		}
		e := c.contentJSON(f, branch)
		delete(e, "content")
		delete(e, "encoding")
		entries[rest] = e
	}
	if len(entries) == 0 {
		return nil
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]map[string]any, len(names))
	for i, n := range names {
		out[i] = entries[n]
	}
	return out
}

func lastSegment(p string) string {
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[i+1:]
	}
	return p
}

func (s *Server) getContents(c *call) (int, any) {
	branch := c.r.URL.Query().Get("ref")
	if branch == "" {
		branch = c.repo.DefaultBranch
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	files := c.repo.files[branch]
	if files == nil {
		if files = c.repo.filesAt(branch); files == nil {
			return c.fail(404, "No commit found for the ref "+branch)
		}
	}
	f := files[c.r.PathValue("path")]
	if f == nil {
		if dir := c.dirJSON(files, c.r.PathValue("path"), branch); dir != nil {
			return 200, dir
		}
		return c.fail(404, "Not Found")
	}
	if len(f.Content) > 1<<20 {
		// GitHub gives no content over 1 MB: read those through the blobs API.
		out := c.contentJSON(f, branch)
		out["content"], out["encoding"] = "", "none"
		return 200, out
	}
	return 200, c.contentJSON(f, branch)
}

func (s *Server) putContents(c *call) (int, any) {
	var in struct {
		Message string `json:"message"`
		Content string `json:"content"`
		SHA     string `json:"sha"`
		Branch  string `json:"branch"`
	}
	if err := c.decode(&in); err != nil {
		return c.fail(400, "Problems parsing JSON")
	}
	content, err := base64.StdEncoding.DecodeString(in.Content)
	if err != nil {
		return c.fail(422, "content is not valid Base64")
	}
	branch := in.Branch
	if branch == "" {
		branch = c.repo.DefaultBranch
	}
	path := c.r.PathValue("path")
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.repo.files[branch] == nil {
		return c.fail(404, "Branch "+branch+" not found")
	}
	old := c.repo.files[branch][path]
	switch {
	case old != nil && in.SHA == "":
		return c.fail(422, "Invalid request.\n\n\"sha\" wasn't supplied.")
	case old != nil && in.SHA != old.SHA:
		return c.fail(409, path+" does not match "+in.SHA)
	case old == nil && in.SHA != "":
		return c.fail(409, path+" does not match "+in.SHA)
	}
	if st, msg := c.repo.refused(branch, c.token); st != 0 {
		return c.fail(st, msg)
	}
	f := s.setFile(c.repo, branch, path, content)
	commit := Commit{SHA: s.commitFiles(c.repo, branch, in.Message), Message: in.Message, Path: path}
	if c.token.Login != BotLogin { // the commit names the token's identity
		c.repo.gitdb().commits[commit.SHA].Author = c.token.Login
	}
	c.repo.commits[branch] = append(c.repo.commits[branch], commit)
	status := 201
	if old != nil {
		status = 200
	}
	// The commit as GitHub describes it, with its real tree.
	return status, map[string]any{"content": c.contentJSON(f, branch), "commit": c.commitJSON(c.repo.gitdb().commits[commit.SHA])}
}

func (s *Server) deleteContents(c *call) (int, any) {
	var in struct {
		Message string `json:"message"`
		SHA     string `json:"sha"`
		Branch  string `json:"branch"`
	}
	if err := c.decode(&in); err != nil || in.SHA == "" {
		return c.fail(422, "Invalid request.\n\n\"sha\" wasn't supplied.")
	}
	branch := in.Branch
	if branch == "" {
		branch = c.repo.DefaultBranch
	}
	path := c.r.PathValue("path")
	s.mu.Lock()
	defer s.mu.Unlock()
	old := c.repo.files[branch][path]
	if old == nil {
		return c.fail(404, "Not Found")
	}
	if old.SHA != in.SHA {
		return c.fail(409, path+" does not match "+in.SHA)
	}
	if st, msg := c.repo.refused(branch, c.token); st != 0 {
		return c.fail(st, msg)
	}
	delete(c.repo.files[branch], path)
	commit := Commit{SHA: s.commitFiles(c.repo, branch, in.Message), Message: in.Message, Path: path}
	c.repo.commits[branch] = append(c.repo.commits[branch], commit)
	return 200, map[string]any{"content": nil, "commit": map[string]any{"sha": commit.SHA, "message": commit.Message}}
}

// --- issues

func (c *call) issueJSON(i *Issue) map[string]any {
	labels := []any{}
	for _, l := range i.Labels {
		labels = append(labels, map[string]any{"name": l})
	}
	out := map[string]any{
		"id": int64(i.Number) + 900000, "node_id": fmt.Sprintf("I_%d", i.Number), "number": i.Number, "title": i.Title, "body": i.Body,
		"state": i.State, "labels": labels, "user": c.s.user(i.User), "created_at": ts(i.CreatedAt), "updated_at": ts(i.UpdatedAt),
		"url":      fmt.Sprintf("%s/issues/%d", c.base(), i.Number),
		"html_url": fmt.Sprintf("https://github.com/%s/issues/%d", c.repo.FullName(), i.Number),
	}
	if i.IsPull {
		out["pull_request"] = map[string]any{"url": fmt.Sprintf("%s/pulls/%d", c.base(), i.Number)}
	}
	return out
}

func (s *Server) listIssues(c *call) (int, any) {
	q := c.r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	var want []string
	if l := q.Get("labels"); l != "" {
		want = strings.Split(l, ",")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var nums []int
	for n := range c.repo.issues {
		nums = append(nums, n)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(nums))) // newest first
	items := []any{}
	for _, n := range nums {
		i := c.repo.issues[n]
		if (state != "all" && i.State != state) || !hasLabels(i.Labels, want) || (q.Get("creator") != "" && q.Get("creator") != i.User) {
			continue
		}
		items = append(items, c.issueJSON(i))
	}
	return 200, c.paginate(items)
}

func hasLabels(have, want []string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || strings.EqualFold(h, strings.TrimSpace(w))
		}
		if !found {
			return false
		}
	}
	return true
}

type issueInput struct {
	Title  *string  `json:"title"`
	Body   *string  `json:"body"`
	State  *string  `json:"state"`
	Labels []string `json:"labels"`
}

func (s *Server) createIssue(c *call) (int, any) {
	var in issueInput
	if err := c.decode(&in); err != nil || in.Title == nil {
		return c.fail(422, "Invalid request.\n\n\"title\" wasn't supplied.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := &Issue{Number: c.repo.nextNumber, Title: *in.Title, State: "open", Labels: in.Labels, User: c.token.Login, CreatedAt: s.now, UpdatedAt: s.now}
	if in.Body != nil {
		i.Body = *in.Body
	}
	c.repo.nextNumber++
	c.repo.issues[i.Number] = i
	return 201, c.issueJSON(i)
}

func (s *Server) getIssue(c *call) (int, any) {
	n, _ := c.intParam("issue_number")
	s.mu.Lock()
	defer s.mu.Unlock()
	i := c.repo.issues[int(n)]
	if i == nil {
		return c.fail(404, "Not Found")
	}
	return 200, c.issueJSON(i)
}

func (s *Server) updateIssue(c *call) (int, any) {
	n, _ := c.intParam("issue_number")
	var in issueInput
	if err := c.decode(&in); err != nil {
		return c.fail(400, "Problems parsing JSON")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := c.repo.issues[int(n)]
	if i == nil {
		return c.fail(404, "Not Found")
	}
	if in.Title != nil {
		i.Title = *in.Title
	}
	if in.Body != nil {
		i.Body = *in.Body
	}
	if in.State != nil {
		i.State = *in.State
	}
	if in.Labels != nil {
		i.Labels = in.Labels
	}
	i.UpdatedAt = s.now
	return 200, c.issueJSON(i)
}

// --- releases

func (c *call) assetJSON(a *Asset) map[string]any {
	return map[string]any{
		"id": a.ID, "node_id": fmt.Sprintf("RA_%d", a.ID), "name": a.Name, "size": len(a.Content), "state": "uploaded",
		"content_type": "application/octet-stream", "download_count": 0, "created_at": ts(c.s.now), "updated_at": ts(c.s.now),
		"url":                  fmt.Sprintf("%s/releases/assets/%d", c.base(), a.ID),
		"browser_download_url": fmt.Sprintf("https://github.com/%s/releases/download/%s", c.repo.FullName(), a.Name),
	}
}

func (c *call) releaseJSON(rel *Release) map[string]any {
	assets := []any{}
	for _, a := range rel.Assets {
		assets = append(assets, c.assetJSON(a))
	}
	return map[string]any{"id": rel.ID, "tag_name": rel.Tag, "name": rel.Name, "assets": assets,
		"draft": false, "prerelease": false, "author": c.s.user("release-bot[bot]"),
		"url": fmt.Sprintf("%s/releases/%d", c.base(), rel.ID)}
}

func (s *Server) releaseByTag(c *call) (int, any) {
	tag := c.r.PathValue("tag")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rel := range c.repo.releases {
		if rel.Tag == tag {
			return 200, c.releaseJSON(rel)
		}
	}
	return c.fail(404, "Not Found")
}

// latestRelease is the newest release (the last one added).
func (s *Server) latestRelease(c *call) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(c.repo.releases); n > 0 {
		return 200, c.releaseJSON(c.repo.releases[n-1])
	}
	return c.fail(404, "Not Found")
}

func (s *Server) getAsset(c *call) (int, any) {
	id, _ := c.intParam("asset_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rel := range c.repo.releases {
		for _, a := range rel.Assets {
			if a.ID != id {
				continue
			}
			if c.r.Header.Get("Accept") == "application/octet-stream" {
				c.header.Set("Location", s.signedURL("download", a.blobKey, 5*time.Minute))
				return 302, nil
			}
			return 200, c.assetJSON(a)
		}
	}
	return c.fail(404, "Not Found")
}
