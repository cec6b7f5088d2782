// Package branchrules reads the rules GitHub applies to a branch (its
// rulesets, one call) and says who may write it: how well the state
// branch is kept from everyone but the deploy identity.
package branchrules

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/google/go-github/v60/github"
)

// Rule is one active rule of a ruleset that applies to the branch.
type Rule struct {
	Type      string `json:"type"`
	Source    string `json:"ruleset_source"`
	RulesetID int64  `json:"ruleset_id"`
}

// Get returns the active rules that apply to branch: GET
// /repos/{owner}/{repo}/rules/branches/{branch} (rulesets in "evaluate" or
// "disabled" are not returned; classic branch protection is not a ruleset
// and is not seen here).
func Get(ctx context.Context, gh *github.Client, owner, repo, branch string) ([]Rule, error) {
	var all []Rule
	for page := 1; ; page++ {
		u := fmt.Sprintf("repos/%s/%s/rules/branches/%s?per_page=100&page=%d", owner, repo, url.PathEscape(branch), page)
		req, err := gh.NewRequest("GET", u, nil)
		if err != nil {
			return nil, err
		}
		var rules []Rule
		resp, err := gh.Do(ctx, req, &rules)
		if err != nil {
			return nil, fmt.Errorf("read the rules of branch %s: %w", branch, err)
		}
		all = append(all, rules...)
		if resp.NextPage == 0 {
			return all, nil
		}
	}
}

// The protection levels (the state-protection output).
const (
	// DeployIdentity: only a ruleset's bypass actors may write the branch,
	// and the state was written by an identity of its own (a GitHub App's
	// or a person's token), not the workflow token every workflow has.
	DeployIdentity = "deploy-identity"
	// WorkflowToken: the branch is restricted, but the state is written
	// with the workflow's GITHUB_TOKEN: whatever lets it write lets every
	// workflow's token write, a pull request's included.
	WorkflowToken = "workflow-token"
	// Restricted: only bypass actors may write it; who wrote the state in
	// this run is not known (status, refresh).
	Restricted = "restricted"
	// Open: no ruleset restricts writes: anyone with write access, and
	// any workflow with contents: write, may write it.
	Open = "open"
	// Unknown: the rules could not be read.
	Unknown = "unknown"
)

// ActionsBot is the workflow token's identity.
const ActionsBot = "github-actions[bot]"

// restricting are the rules that keep direct writes to bypass actors.
var restricting = map[string]bool{"update": true, "pull_request": true}

// Protection is what the rules say of the branch, for the writer.
type Protection struct {
	Branch string
	Rules  []Rule
	// Writer is who wrote the state in this run ("": not known).
	Writer string
	Err    error
}

// Restricting are the rules that keep writes to bypass actors, and the
// rulesets they come from.
func (p *Protection) Restricting() (types []string, rulesets []string) {
	seenT, seenR := map[string]bool{}, map[string]bool{}
	for _, r := range p.Rules {
		if !restricting[r.Type] {
			continue
		}
		if !seenT[r.Type] {
			seenT[r.Type] = true
			types = append(types, r.Type)
		}
		rs := fmt.Sprintf("%d", r.RulesetID)
		if r.Source != "" {
			rs += " (" + r.Source + ")"
		}
		if !seenR[rs] {
			seenR[rs] = true
			rulesets = append(rulesets, rs)
		}
	}
	sort.Strings(types)
	sort.Strings(rulesets)
	return types, rulesets
}

// Level is the protection level.
func (p *Protection) Level() string {
	types, _ := p.Restricting()
	switch {
	case p.Err != nil:
		return Unknown
	case len(types) == 0:
		return Open
	case p.Writer == "":
		return Restricted
	case p.Writer == ActionsBot:
		return WorkflowToken
	}
	return DeployIdentity
}

// Sentence says who may write the branch, in Markdown-safe words (branch
// names and logins are code spans; rulesets are numbers and names GitHub
// gives).
func (p *Protection) Sentence() string {
	b := "`" + strings.ReplaceAll(p.Branch, "`", "'") + "`"
	types, rulesets := p.Restricting()
	rules := "rules " + strings.Join(quote(types), " and ") + " of ruleset " + strings.Join(rulesets, ", ")
	switch p.Level() {
	case Unknown:
		return "Who may write the state branch " + b + " is not known: its rules could not be read (" + p.Err.Error() + ")."
	case Open:
		return "Anyone with write access to the repository, and any workflow whose token has `contents: write` (a pull request's too), can write the state branch " + b +
			". A state they write is refused (`state-untrusted`), not used, but it stops deploys until it is adopted: restrict the branch to the deploy identity (docs/security.md: Hardening the state branch)."
	case Restricted:
		return "Only the bypass actors of the " + rules + " can write the state branch " + b + "; if the deploy identity is its only one, only the deploy identity can."
	case WorkflowToken:
		return "The state branch " + b + " is restricted (" + rules + "), but this run wrote it with the workflow token (" + ActionsBot +
			"), which every workflow of the repository has, a pull request's too: write the state with a GitHub App's token that alone may bypass the ruleset (docs/security.md: Hardening the state branch)."
	}
	return "Only the bypass actors of the " + rules + " can write the state branch " + b + ", and this run wrote it as `" + strings.ReplaceAll(p.Writer, "`", "'") +
		"`: if that is the ruleset's only bypass actor, only the deploy identity can write the state."
}

func quote(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = "`" + s + "`"
	}
	return out
}
