package ghemu

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"sort"
	"time"
)

// Repo is one emulated repository.
type Repo struct {
	Owner, Name   string
	ID            int64
	DefaultBranch string

	issues       map[int]*Issue
	comments     []*Comment
	pulls        map[int]*Pull
	commitPulls  map[string][]int
	foreignPulls map[string][]*Pull // sha → pull requests of other bases holding it
	assocLag     map[string]int     // sha → lookups still answered empty
	runs         []*Run
	artifacts    []*Artifact
	files        map[string]map[string]*File // branch → path → file
	commits      map[string][]Commit         // branch → commits, oldest first
	releases     []*Release
	nextNumber   int
	git          *gitStore // objects, refs and branch rules (gitdata.go)
	deployments  []*Deployment
}

// FullName is owner/name.
func (r *Repo) FullName() string { return r.Owner + "/" + r.Name }

// Issue is an issue or the issue side of a pull request.
type Issue struct {
	Number    int
	Title     string
	Body      string
	State     string
	Labels    []string
	User      string
	IsPull    bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Comment is an issue or pull request comment.
type Comment struct {
	ID        int64
	Issue     int
	Body      string
	User      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Pull is a pull request.
type Pull struct {
	Number         int
	Title          string
	HeadSHA        string
	HeadRef        string
	BaseRef        string
	BaseSHA        string
	HeadRepo       string // full name; another repo for a fork
	BaseRepo       string // full name; empty: the repository it is listed in
	State          string // open, closed
	Merged         bool
	MergeCommitSHA string
	User           string
}

// Run is a workflow run.
type Run struct {
	ID           int64
	Event        string // pull_request, push, ...
	HeadSHA      string
	HeadBranch   string
	HeadRepo     string // full name; another repo for a fork
	Status       string // queued, in_progress, completed
	Conclusion   string
	Attempt      int
	BackendID    string // workflow_run_backend_id of the results service
	JobBackendID string
	CreatedAt    time.Time
}

// Artifact is a workflow artifact.
type Artifact struct {
	ID        int64
	Name      string
	RunID     int64
	Size      int64
	Digest    string // sha256:<hex>
	CreatedAt time.Time
	ExpiresAt time.Time
	Finalized bool
	Deleted   bool
	blobKey   string
	// JobBackendID is the results service id of the job (attempt) that
	// uploaded it: a re-run is another job.
	JobBackendID string
}

// File is a file on a branch.
type File struct {
	Path    string
	Content []byte
	SHA     string // git blob sha
}

// Commit is a commit made through the contents API.
type Commit struct {
	SHA     string
	Message string
	Path    string
}

// Release is a release with assets.
type Release struct {
	ID     int64
	Tag    string
	Name   string
	Assets []*Asset
}

// Asset is a release asset.
type Asset struct {
	ID      int64
	Name    string
	Content []byte
	blobKey string
}

// BlobSHA is git's blob id of content, as the contents API reports it.
func BlobSHA(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

// AddRepo adds an empty repository with branch main.
func (s *Server) AddRepo(owner, name string) *Repo {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &Repo{
		Owner: owner, Name: name, ID: s.id(), DefaultBranch: "main",
		issues: map[int]*Issue{}, pulls: map[int]*Pull{}, commitPulls: map[string][]int{},
		files: map[string]map[string]*File{"main": {}}, commits: map[string][]Commit{}, nextNumber: 1,
	}
	s.repos[r.FullName()] = r
	return r
}

func (s *Server) repo() *Repo { return s.repos[DefaultOwner+"/"+DefaultRepo] }

// AddPull adds an open pull request to the default repo; Number, HeadRepo,
// State and User get defaults when empty.
func (s *Server) AddPull(p Pull) *Pull {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repo()
	if p.Number == 0 {
		p.Number = r.nextNumber
	}
	if p.Number >= r.nextNumber {
		r.nextNumber = p.Number + 1
	}
	if p.HeadRepo == "" {
		p.HeadRepo = r.FullName()
	}
	if p.State == "" {
		p.State = "open"
	}
	if p.User == "" {
		p.User = "octocat"
	}
	if p.BaseRef == "" {
		p.BaseRef = r.DefaultBranch
	}
	if p.Title == "" {
		p.Title = fmt.Sprintf("Change %d", p.Number)
	}
	r.pulls[p.Number] = &p
	r.issues[p.Number] = &Issue{Number: p.Number, Title: p.Title, State: p.State, User: p.User, IsPull: true, CreatedAt: s.now, UpdatedAt: s.now}
	r.commitPulls[p.HeadSHA] = append(r.commitPulls[p.HeadSHA], p.Number)
	return &p
}

// MergePull merges pull request n into its base as commit sha (a merge,
// squash or rebase commit: all are associated with the pull request).
func (s *Server) MergePull(n int, sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repo()
	p := r.pulls[n]
	p.Merged, p.State, p.MergeCommitSHA = true, "closed", sha
	r.issues[n].State = "closed"
	r.commitPulls[sha] = append(r.commitPulls[sha], n)
	r.addMainline(sha)
}

// AddRun adds a workflow run to the default repo and gives it results
// service backend ids.
func (s *Server) AddRun(run Run) *Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repo()
	if run.ID == 0 {
		run.ID = s.id()
	}
	if run.Attempt == 0 {
		run.Attempt = 1
	}
	if run.Status == "" {
		run.Status = "in_progress"
	}
	if run.HeadRepo == "" {
		run.HeadRepo = r.FullName()
	}
	run.BackendID = fmt.Sprintf("b1f0c7a2-0000-4000-8000-%012d", run.ID)
	run.JobBackendID = fmt.Sprintf("9c3d5e7f-0000-4000-8000-%012d", run.ID)
	run.CreatedAt = s.now
	r.runs = append(r.runs, &run)
	s.runsByBID[run.BackendID] = &run
	return &run
}

// CompleteRun marks a run completed.
func (s *Server) CompleteRun(id int64, conclusion string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, run := range s.repo().runs {
		if run.ID == id {
			run.Status, run.Conclusion = "completed", conclusion
		}
	}
}

// SetFile puts a file on a branch of the default repo directly (seeding).
func (s *Server) SetFile(branch, path string, content []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setFile(s.repo(), branch, path, content)
	s.commitFiles(s.repo(), branch, "seed "+path)
}

// SetFileAs is SetFile by someone else than the bot: a collaborator
// pushing to the branch (the commit names author).
func (s *Server) SetFileAs(branch, path string, content []byte, author string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setFile(s.repo(), branch, path, content)
	sha := s.commitFiles(s.repo(), branch, "edit "+path)
	s.repo().gitdb().commits[sha].Author = author
	return sha
}

func (s *Server) setFile(r *Repo, branch, path string, content []byte) *File {
	if r.files[branch] == nil {
		r.files[branch] = map[string]*File{}
	}
	f := &File{Path: path, Content: append([]byte(nil), content...), SHA: BlobSHA(content)}
	r.files[branch][path] = f
	return f
}

// GetFile reads a file of a branch of the default repo.
func (s *Server) GetFile(branch, path string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.repo().files[branch][path]
	if !ok {
		return nil, false
	}
	return append([]byte(nil), f.Content...), true
}

// Commits lists the commits made through the contents API on a branch.
func (s *Server) Commits(branch string) []Commit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Commit(nil), s.repo().commits[branch]...)
}

// Comments lists the comments of issue or pull request n, oldest first.
func (s *Server) Comments(n int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.repo().comments {
		if c.Issue == n {
			out = append(out, *c)
		}
	}
	return out
}

// AddComment seeds a comment by user on issue or pull request n.
func (s *Server) AddComment(n int, user, body string) Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &Comment{ID: s.id(), Issue: n, Body: body, User: user, CreatedAt: s.now, UpdatedAt: s.now}
	s.repo().comments = append(s.repo().comments, c)
	return *c
}

// Issues lists the issues (not pull requests) of the default repo.
func (s *Server) Issues() []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Issue
	for _, i := range s.repo().issues {
		if !i.IsPull {
			out = append(out, *i)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Number < out[b].Number })
	return out
}

// Artifacts lists the default repo's artifacts, finalized or not.
func (s *Server) Artifacts() []Artifact {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Artifact
	for _, a := range s.repo().artifacts {
		out = append(out, *a)
	}
	return out
}

// AddRelease adds a release with the named assets to repo owner/name
// (created if missing).
func (s *Server) AddRelease(fullName, tag string, assets map[string][]byte) *Release {
	s.mu.Lock()
	r := s.repos[fullName]
	s.mu.Unlock()
	if r == nil {
		owner, name, _ := cut(fullName)
		r = s.AddRepo(owner, name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rel := &Release{ID: s.id(), Tag: tag, Name: tag}
	names := make([]string, 0, len(assets))
	for n := range assets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a := &Asset{ID: s.id(), Name: n, Content: assets[n]}
		a.blobKey = fmt.Sprintf("asset-%d", a.ID)
		s.blobs[a.blobKey] = &blob{data: assets[n], committed: true}
		rel.Assets = append(rel.Assets, a)
	}
	r.releases = append(r.releases, rel)
	return rel
}

func cut(fullName string) (string, string, bool) {
	for i := 0; i < len(fullName); i++ {
		if fullName[i] == '/' {
			return fullName[:i], fullName[i+1:], true
		}
	}
	return fullName, "", false
}

// Runs lists the default repo's workflow runs.
func (s *Server) Runs() []*Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Run(nil), s.repo().runs...)
}

// DeleteArtifact deletes an artifact of the default repo, as someone with
// actions: write could.
func (s *Server) DeleteArtifact(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.repo().artifacts {
		if a.ID == id {
			a.Deleted = true
		}
	}
}

// DeleteFile removes a file from a branch of the default repo, as a commit.
func (s *Server) DeleteFile(branch, path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.repo().files[branch], path)
	s.commitFiles(s.repo(), branch, "delete "+path)
}
