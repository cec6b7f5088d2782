package environment

import (
	"context"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

func TestURL(t *testing.T) {
	console := deploy.Link{Label: "Console", URL: "https://console.example.com/p/1", Rel: "console"}
	cases := []struct {
		name       string
		deployment []deploy.Link
		results    []deploy.ResourceResult
		want       string
	}{
		{"nothing", nil, nil, ""},
		{"deployment-wide link first", []deploy.Link{{Label: "App", URL: "https://app.example.com"}}, []deploy.ResourceResult{{Links: []deploy.Link{console}}}, "https://app.example.com"},
		{"else the first console link", nil, []deploy.ResourceResult{{Links: []deploy.Link{{URL: "https://docs.example.com", Rel: "docs"}}}, {Links: []deploy.Link{console}}}, console.URL},
		{"only http(s)", []deploy.Link{{URL: "file:///tmp/deployed"}, {URL: "javascript:alert(1)"}}, []deploy.ResourceResult{{Links: []deploy.Link{{URL: "file:///x", Rel: "console"}}}}, ""},
	}
	for _, tc := range cases {
		if got := URL(tc.deployment, tc.results); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestDeploymentLifecycle(t *testing.T) {
	gh := ghemu.New(t)
	defer gh.Close()
	gh.SetFile("main", "README.md", []byte("x"))
	ctx := context.Background()
	client := gh.GitHubClient(ghemu.DefaultToken)
	sha := gh.Head("main")
	d, err := Start(ctx, client, ghemu.DefaultOwner, ghemu.DefaultRepo, sha, "production", "support-bot 1.2.0, plan 3b1f5c0a9d7e", "https://github.com/octo-org/app/actions/runs/7")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Status(ctx, Success, "Applied: 1 updated", "https://console.example.com"); err != nil {
		t.Fatal(err)
	}
	deps := gh.Deployments()
	if len(deps) != 1 {
		t.Fatalf("%d deployments", len(deps))
	}
	dep := deps[0]
	if dep.SHA != sha || dep.Environment != "production" || dep.AutoMerge || dep.Contexts || len(dep.Statuses) != 2 {
		t.Fatalf("deployment %+v", dep)
	}
	if s := dep.Statuses[0]; s.State != InProgress || s.LogURL != "https://github.com/octo-org/app/actions/runs/7" {
		t.Errorf("first status %+v", s)
	}
	if s := dep.Statuses[1]; s.State != Success || s.EnvironmentURL != "https://console.example.com" {
		t.Errorf("last status %+v", s)
	}
	if v := gh.Violations(); len(v) > 0 {
		t.Errorf("API contract: %+v", v)
	}
}

func TestDeploymentNeedsPermission(t *testing.T) {
	gh := ghemu.New(t)
	defer gh.Close()
	gh.AddToken("ghs_nodeploy", ghemu.BotLogin, map[string]string{"contents": ghemu.Write, "metadata": ghemu.Read})
	_, err := Start(context.Background(), gh.GitHubClient("ghs_nodeploy"), ghemu.DefaultOwner, ghemu.DefaultRepo, "abcdef1", "production", "x", "")
	if err == nil || len(gh.Deployments()) != 0 {
		t.Fatalf("err %v, deployments %d", err, len(gh.Deployments()))
	}
}
