package ghemu

import "fmt"

// What GitHub itself does around a workflow run, for a harness that plays
// the Actions service (internal/workflowtest): commits with whole trees,
// pushes to a pull request, closing one, and the deployments GitHub
// records for jobs that name an environment.

// CommitMerge stores a commit of the default repo whose whole tree is
// files, with the given parents (a merge commit has two), and moves branch
// to it unless branch is empty (a commit no branch points to, like
// refs/pull/N/merge). It returns the commit's sha. CommitTree (trees.go)
// is the everyday one-parent commit.
func (s *Server) CommitMerge(branch string, files map[string][]byte, parents []string, message string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repo()
	g := r.gitdb()
	entries := make(map[string]string, len(files))
	for p, b := range files {
		sha := BlobSHA(b)
		g.blobs[sha] = append([]byte(nil), b...)
		entries[p] = sha
	}
	c := g.putCommit(g.putTree(entries), append([]string(nil), parents...), message+fmt.Sprintf("\x00%d", s.id()))
	if branch != "" {
		r.setHead(branch, c.SHA)
	}
	return c.SHA
}

// Tree is the files of commit sha of the default repo.
func (s *Server) Tree(sha string) (map[string][]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	files := s.repo().filesAt(sha)
	if files == nil {
		return nil, false
	}
	out := make(map[string][]byte, len(files))
	for p, f := range files {
		out[p] = append([]byte(nil), f.Content...)
	}
	return out, true
}

// PushToPull moves pull request n's head to sha (a push to its branch).
func (s *Server) PushToPull(n int, sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repo()
	p := r.pulls[n]
	p.HeadSHA = sha
	r.commitPulls[sha] = append(r.commitPulls[sha], n)
}

// ClosePull closes pull request n without merging it.
func (s *Server) ClosePull(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repo()
	r.pulls[n].State = "closed"
	r.issues[n].State = "closed"
}

// ReopenPull opens closed pull request n again.
func (s *Server) ReopenPull(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repo()
	r.pulls[n].State = "open"
	r.issues[n].State = "open"
}

// Pull is pull request n of the default repo.
func (s *Server) Pull(n int) (Pull, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.repo().pulls[n]
	if p == nil {
		return Pull{}, false
	}
	return *p, true
}

// RecordDeployment records a deployment as GitHub does for a job that
// names an environment (creator github-actions[bot], ref and sha of the
// run), and returns its id.
func (s *Server) RecordDeployment(ref, sha, environment string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := &Deployment{ID: s.id(), Ref: ref, SHA: sha, Task: "deploy", Environment: environment, Creator: BotLogin,
		ProductionEnv: environment == "production", CreatedAt: s.now, AutoMerge: false, Contexts: false}
	s.repo().deployments = append(s.repo().deployments, d)
	return d.ID
}

// RecordDeploymentStatus adds a status to deployment id (waiting,
// in_progress, success, failure, ...).
func (s *Server) RecordDeploymentStatus(id int64, state, logURL, environmentURL string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.repo().deployments {
		if d.ID == id {
			d.Statuses = append(d.Statuses, DeploymentStatus{ID: s.id(), State: state, LogURL: logURL,
				EnvironmentURL: environmentURL, Environment: d.Environment, CreatedAt: s.now})
		}
	}
}
