// Command omnia is the harness's stand-in for Omnia's adapter
// (promptarena-deploy-omnia): released on the emulator, installed by the
// action with adapter-install: omnia@<version>, it speaks the deploy
// protocol through adaptersdk like any adapter. It asks what Omnia's
// adapter asks (a workspace in its config, a token in OMNIA_API_TOKEN or
// api_token) and deploys into a directory standing for Omnia's service,
// <cloud>/<workspace>, with the reference adapter's plan, apply, status
// and destroy: files edited there show as drift.
//
// Built by internal/workflowtest with -ldflags "-X main.cloud=<dir> -X
// main.version=<version>"; it is test infrastructure, never released.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"regexp"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy/adaptersdk"
	"github.com/arena-deploy/arena-deploy-action/internal/localadapter"
)

var (
	cloud   = ""
	version = "0.0.0"
)

// schema is the subset of Omnia's config schema the stand-in checks.
const schema = `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","required":["api_endpoint","workspace","providers"],` +
	`"properties":{"api_endpoint":{"type":"string","format":"uri"},"workspace":{"type":"string","pattern":"^[a-z0-9][a-z0-9-]*[a-z0-9]$"},` +
	`"api_token":{"type":"string"},"providers":{}}}`

var workspacePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*[a-z0-9]$`)

type provider struct{ inner *localadapter.Provider }

type config struct {
	APIEndpoint string `json:"api_endpoint"`
	Workspace   string `json:"workspace"`
	APIToken    string `json:"api_token"`
	Providers   any    `json:"providers"`
}

func parse(raw string) (config, []string) {
	var c config
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return c, []string{"config is not a JSON object: " + err.Error()}
	}
	var errs []string
	if c.APIEndpoint == "" {
		errs = append(errs, "api_endpoint is required")
	}
	if !workspacePattern.MatchString(c.Workspace) {
		errs = append(errs, fmt.Sprintf("workspace %q must match %s", c.Workspace, workspacePattern))
	}
	if c.Providers == nil {
		errs = append(errs, "providers is required")
	}
	if c.APIToken == "" && os.Getenv("OMNIA_API_TOKEN") == "" {
		errs = append(errs, "no API token: set OMNIA_API_TOKEN (or api_token)")
	}
	return c, errs
}

// local is the reference adapter's config for the workspace's folder.
func local(raw string) (string, error) {
	c, errs := parse(raw)
	if len(errs) > 0 {
		return "", fmt.Errorf("omnia: %s", errs[0])
	}
	b, _ := json.Marshal(map[string]string{"target_dir": c.Workspace, "console_url": "https://omnia.example.com/workspaces/" + c.Workspace})
	return string(b), nil
}

func (p *provider) GetProviderInfo(context.Context) (*deploy.ProviderInfo, error) {
	return &deploy.ProviderInfo{Name: "omnia", Version: version, Capabilities: []string{"plan", "apply", "destroy", "status", "import"}, ConfigSchema: schema}, nil
}

func (p *provider) ValidateConfig(_ context.Context, req *deploy.ValidateRequest) (*deploy.ValidateResponse, error) {
	_, errs := parse(req.Config)
	return &deploy.ValidateResponse{Valid: len(errs) == 0, Errors: errs}, nil
}

func (p *provider) Plan(ctx context.Context, req *deploy.PlanRequest) (*deploy.PlanResponse, error) {
	r := *req
	var err error
	if r.DeployConfig, err = local(req.DeployConfig); err != nil {
		return nil, err
	}
	return p.inner.Plan(ctx, &r)
}

func (p *provider) Apply(ctx context.Context, req *deploy.PlanRequest, cb deploy.ApplyCallback) (string, error) {
	r := *req
	var err error
	if r.DeployConfig, err = local(req.DeployConfig); err != nil {
		return "", err
	}
	return p.inner.Apply(ctx, &r, cb)
}

func (p *provider) Destroy(ctx context.Context, req *deploy.DestroyRequest, cb deploy.DestroyCallback) error {
	r := *req
	var err error
	if r.DeployConfig, err = local(req.DeployConfig); err != nil {
		return err
	}
	return p.inner.Destroy(ctx, &r, cb)
}

// Status is the reference adapter's, and, like Omnia's, it returns its
// state with what it found: each resource's health. A state whose health
// changed (drift, or its end) is a new state, which refresh records.
func (p *provider) Status(ctx context.Context, req *deploy.StatusRequest) (*deploy.StatusResponse, error) {
	r := *req
	var err error
	if r.DeployConfig, err = local(req.DeployConfig); err != nil {
		return nil, err
	}
	resp, err := p.inner.Status(ctx, &r)
	if err != nil || req.PriorState == "" {
		return resp, err
	}
	// The reference adapter's state is base64 of its JSON.
	raw, err := base64.StdEncoding.DecodeString(req.PriorState)
	if err != nil {
		return nil, fmt.Errorf("omnia: prior_state: %w", err)
	}
	var st map[string]any
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("omnia: prior_state: %w", err)
	}
	health := map[string]any{}
	for _, res := range resp.Resources {
		health[res.Type+"/"+res.Name] = res.Status
	}
	st["health"] = health
	b, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	resp.State = base64.StdEncoding.EncodeToString(b)
	return resp, nil
}

func (p *provider) Import(ctx context.Context, req *deploy.ImportRequest) (*deploy.ImportResponse, error) {
	r := *req
	var err error
	if r.DeployConfig, err = local(req.DeployConfig); err != nil {
		return nil, err
	}
	return p.inner.Import(ctx, &r)
}

func main() {
	if cloud == "" {
		fmt.Fprintln(os.Stderr, "promptarena-deploy-omnia (stand-in): built without -X main.cloud")
		os.Exit(1)
	}
	if err := adaptersdk.Serve(&provider{inner: &localadapter.Provider{BaseDir: cloud, Version: version}}); err != nil {
		fmt.Fprintln(os.Stderr, "promptarena-deploy-omnia:", err)
		os.Exit(1)
	}
}
