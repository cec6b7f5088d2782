package ghemu

import "fmt"

// deleteLag is how the results service frees a name after a delete: for a
// moment, creates of that name still answer "already exists".
type deleteLag struct {
	creates int            // creates refused after each delete
	left    map[string]int // name → creates still refused
}

// LagDeletes makes the next n creates of a name answer 409 after each
// DeleteArtifact of that name, as the real service can.
func (s *Server) LagDeletes(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lag.creates = n
}

// deleted starts the lag of name (s.mu held).
func (s *Server) deleted(name string) {
	if s.lag.creates == 0 {
		return
	}
	if s.lag.left == nil {
		s.lag.left = map[string]int{}
	}
	s.lag.left[name] = s.lag.creates
}

// stillTaken reports (and uses up) a lagging name (s.mu held).
func (s *Server) stillTaken(name string) bool {
	if s.lag.left[name] == 0 {
		return false
	}
	s.lag.left[name]--
	return true
}

// Rerun starts the next attempt of run: the same run (id and results
// service run id, so its artifacts' names are still taken), a new job.
func (s *Server) Rerun(id int64) *Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, run := range s.repo().runs {
		if run.ID == id {
			run.Attempt++
			run.Status, run.Conclusion = "in_progress", ""
			run.JobBackendID = fmt.Sprintf("9c3d5e7f-%04d-4000-8000-%012d", run.Attempt, run.ID)
			return run
		}
	}
	return nil
}

// Rerun sets up the next attempt of run, with the same event as before.
func (r *Runner) Rerun(run *Run) *Run {
	run = r.Server.Rerun(run.ID)
	r.Env["GITHUB_RUN_ATTEMPT"] = fmt.Sprint(run.Attempt)
	r.Env["ACTIONS_RUNTIME_TOKEN"] = r.Server.RuntimeToken(run)
	return run
}
