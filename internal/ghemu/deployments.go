package ghemu

import (
	"fmt"
	"strings"
	"time"
)

// Deployment is a GitHub deployment and the statuses posted to it.
type Deployment struct {
	ID                  int64
	Ref, SHA, Task      string
	Environment         string
	Description         string
	Creator             string
	ProductionEnv       bool
	TransientEnv        bool
	CreatedAt           time.Time
	Statuses            []DeploymentStatus
	AutoMerge, Contexts bool // what the request asked: merge, and check status contexts
}

// DeploymentStatus is one status of a deployment.
type DeploymentStatus struct {
	ID                     int64
	State, Description     string
	LogURL, EnvironmentURL string
	Environment            string
	CreatedAt              time.Time
}

func (s *Server) deploymentRoutes(handle func(pattern, scope, level string, h handlerFunc)) {
	const repo = "/repos/{owner}/{repo}"
	handle("GET "+repo+"/deployments", "deployments", Read, s.listDeployments)
	handle("POST "+repo+"/deployments", "deployments", Write, s.createDeployment)
	handle("GET "+repo+"/deployments/{deployment_id}/statuses", "deployments", Read, s.listDeploymentStatuses)
	handle("POST "+repo+"/deployments/{deployment_id}/statuses", "deployments", Write, s.createDeploymentStatus)
}

// Deployments lists the default repo's deployments, oldest first.
func (s *Server) Deployments() []Deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Deployment
	for _, d := range s.repo().deployments {
		c := *d
		c.Statuses = append([]DeploymentStatus(nil), d.Statuses...)
		out = append(out, c)
	}
	return out
}

func (c *call) deploymentJSON(d *Deployment) map[string]any {
	self := c.base() + "/deployments/" + fmt.Sprint(d.ID)
	return map[string]any{
		"id": d.ID, "node_id": fmt.Sprintf("DE_%d", d.ID), "sha": d.SHA, "ref": d.Ref, "task": d.Task, "payload": map[string]any{},
		"original_environment": d.Environment, "environment": d.Environment, "description": d.Description,
		"creator": c.s.user(d.Creator), "created_at": ts(d.CreatedAt), "updated_at": ts(d.CreatedAt),
		"statuses_url": self + "/statuses", "repository_url": c.base(), "url": self,
		"transient_environment": d.TransientEnv, "production_environment": d.ProductionEnv,
	}
}

func (c *call) deploymentStatusJSON(d *Deployment, st *DeploymentStatus) map[string]any {
	dep := c.base() + "/deployments/" + fmt.Sprint(d.ID)
	return map[string]any{
		"url": dep + "/statuses/" + fmt.Sprint(st.ID), "id": st.ID, "node_id": fmt.Sprintf("DES_%d", st.ID), "state": st.State,
		"creator": c.s.user(c.token.Login), "description": st.Description, "environment": st.Environment,
		"target_url": st.LogURL, "log_url": st.LogURL, "environment_url": st.EnvironmentURL,
		"created_at": ts(st.CreatedAt), "updated_at": ts(st.CreatedAt), "deployment_url": dep, "repository_url": c.base(),
	}
}

// resolve is the commit a deployment's ref names: a branch's head, or a
// commit sha as given (GitHub answers 422 for refs it cannot find).
func (c *call) resolve(ref string) (string, bool) {
	if h := c.repo.gitdb().heads[strings.TrimPrefix(ref, "refs/heads/")]; h != "" {
		return h, true
	}
	if len(ref) >= 7 && len(ref) <= 40 && strings.Trim(ref, "0123456789abcdef") == "" {
		return ref, true
	}
	return "", false
}

func (s *Server) createDeployment(c *call) (int, any) {
	var in struct {
		Ref              string    `json:"ref"`
		Task             string    `json:"task"`
		AutoMerge        *bool     `json:"auto_merge"`
		RequiredContexts *[]string `json:"required_contexts"`
		Environment      string    `json:"environment"`
		Description      string    `json:"description"`
		Transient        bool      `json:"transient_environment"`
		Production       *bool     `json:"production_environment"`
	}
	if err := c.decode(&in); err != nil {
		return c.fail(400, "Problems parsing JSON")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sha, ok := c.resolve(in.Ref)
	if !ok {
		return c.fail(422, "No ref found for: "+in.Ref)
	}
	d := &Deployment{ID: s.id(), Ref: in.Ref, SHA: sha, Task: in.Task, Environment: in.Environment, Description: in.Description,
		Creator: c.token.Login, TransientEnv: in.Transient, CreatedAt: s.now,
		AutoMerge: in.AutoMerge == nil || *in.AutoMerge, Contexts: in.RequiredContexts == nil || len(*in.RequiredContexts) > 0}
	if d.Task == "" {
		d.Task = "deploy"
	}
	if d.Environment == "" {
		d.Environment = "production"
	}
	d.ProductionEnv = d.Environment == "production"
	if in.Production != nil {
		d.ProductionEnv = *in.Production
	}
	c.repo.deployments = append(c.repo.deployments, d)
	return 201, c.deploymentJSON(d)
}

func (s *Server) listDeployments(c *call) (int, any) {
	q := c.r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	var items []any
	for i := len(c.repo.deployments) - 1; i >= 0; i-- { // newest first
		d := c.repo.deployments[i]
		if env := q.Get("environment"); env != "" && d.Environment != env {
			continue
		}
		if sha := q.Get("sha"); sha != "" && d.SHA != sha {
			continue
		}
		items = append(items, c.deploymentJSON(d))
	}
	return 200, c.paginate(items)
}

func (c *call) findDeployment() *Deployment {
	id, ok := c.intParam("deployment_id")
	if !ok {
		return nil
	}
	for _, d := range c.repo.deployments {
		if d.ID == id {
			return d
		}
	}
	return nil
}

func (s *Server) createDeploymentStatus(c *call) (int, any) {
	var in struct {
		State          string `json:"state"`
		LogURL         string `json:"log_url"`
		TargetURL      string `json:"target_url"`
		Description    string `json:"description"`
		Environment    string `json:"environment"`
		EnvironmentURL string `json:"environment_url"`
	}
	if err := c.decode(&in); err != nil {
		return c.fail(400, "Problems parsing JSON")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := c.findDeployment()
	if d == nil {
		return c.fail(404, "Not Found")
	}
	if len(in.Description) > 140 {
		return c.fail(422, "description is too long (maximum is 140 characters)")
	}
	st := DeploymentStatus{ID: s.id(), State: in.State, LogURL: in.LogURL, Description: in.Description,
		Environment: in.Environment, EnvironmentURL: in.EnvironmentURL, CreatedAt: s.now}
	if st.LogURL == "" {
		st.LogURL = in.TargetURL
	}
	if st.Environment == "" {
		st.Environment = d.Environment
	}
	d.Statuses = append(d.Statuses, st)
	return 201, c.deploymentStatusJSON(d, &d.Statuses[len(d.Statuses)-1])
}

func (s *Server) listDeploymentStatuses(c *call) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := c.findDeployment()
	if d == nil {
		return c.fail(404, "Not Found")
	}
	var items []any
	for i := len(d.Statuses) - 1; i >= 0; i-- {
		items = append(items, c.deploymentStatusJSON(d, &d.Statuses[i]))
	}
	return 200, c.paginate(items)
}
