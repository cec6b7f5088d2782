package workflowtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// GitHubAppTokenAction names GitHub's action that mints an App's
// installation token.
const GitHubAppTokenAction = "actions/create-github-app-token"

// AppSlug is the App the stand-in mints tokens for: its bot,
// <AppSlug>[bot], is who writes with them (what a ruleset's bypass list
// names).
const AppSlug = "arena-deployer"

// GitHubAppToken stands in for actions/create-github-app-token: with an
// app id and a private key (secrets the job must have), it mints an
// installation token of the App, acting as <AppSlug>[bot] with the App's
// repository permissions (contents and pull requests write, actions
// read), as GitHub gives an App installed with them. The job's own token
// is not involved.
var GitHubAppToken = StandIn{
	Inputs: map[string]string{
		"app-id": "", "client-id": "", "private-key": "", "owner": "", "repositories": "", "skip-token-revoke": "false",
		"github-api-url": "${{ github.api_url }}",
	},
	Run: func(s *StandInStep) error {
		id := s.Inputs["app-id"]
		if id == "" {
			id = s.Inputs["client-id"]
		}
		if id == "" || !strings.Contains(s.Inputs["private-key"], "PRIVATE KEY") {
			return fmt.Errorf("create-github-app-token: app-id and private-key are needed (an empty secret: is the job in the environment that holds them?)")
		}
		sum := sha256.Sum256([]byte(id + s.Inputs["private-key"] + s.Env["GITHUB_RUN_ID"] + s.Env["GITHUB_RUN_ATTEMPT"]))
		token := "ghs_app" + hex.EncodeToString(sum[:12])
		s.H.GH.AddToken(token, AppSlug+"[bot]", map[string]string{"contents": "write", "pull_requests": "write", "actions": "read", "metadata": "read"})
		for name, v := range map[string]string{"token": token, "app-slug": AppSlug, "installation-id": "4242"} {
			s.SetOutput(name, v)
		}
		fmt.Fprintf(s.Log, "Created an installation token of %s (%s[bot])\n", AppSlug, AppSlug)
		return nil
	},
}
