package ghemu

import "fmt"

// PullRequestTarget sets up a pull_request_target run for pr: the base
// repository's workflow, at the base branch, with the pull request in the
// payload.
func (r *Runner) PullRequestTarget(pr *Pull) (*Run, error) {
	headRepo := pr.HeadRepo
	if headRepo == "" {
		headRepo = DefaultOwner + "/" + DefaultRepo
	}
	run := r.Server.AddRun(Run{Event: "pull_request_target", HeadSHA: pr.HeadSHA, HeadRepo: headRepo})
	base := pr.BaseRef
	if base == "" {
		base = "main"
	}
	return run, r.event("pull_request_target", run, "base-of-"+pr.HeadSHA, "refs/heads/"+base, map[string]any{
		"number": pr.Number,
		"pull_request": map[string]any{"number": pr.Number,
			"head": map[string]any{"sha": pr.HeadSHA, "repo": map[string]any{"full_name": headRepo}},
			"base": map[string]any{"sha": pr.BaseSHA, "ref": base}},
	})
}

// MergeGroup sets up a merge_group run: the merge queue testing its
// temporary merge commit sha of pull request n on gh-readonly-queue/main/….
func (r *Runner) MergeGroup(n int, sha, baseSHA string) (*Run, error) {
	ref := fmt.Sprintf("refs/heads/gh-readonly-queue/main/pr-%d-%s", n, baseSHA)
	run := r.Server.AddRun(Run{Event: "merge_group", HeadSHA: sha, HeadBranch: ref[len("refs/heads/"):]})
	return run, r.event("merge_group", run, sha, ref, map[string]any{
		"action": "checks_requested",
		"merge_group": map[string]any{"head_sha": sha, "head_ref": ref, "base_sha": baseSHA, "base_ref": "refs/heads/main",
			"head_commit": map[string]any{"id": sha, "message": fmt.Sprintf("Merge pull request #%d", n)}},
	})
}

// Schedule sets up a schedule run on main at sha.
func (r *Runner) Schedule(sha string) (*Run, error) {
	run := r.Server.AddRun(Run{Event: "schedule", HeadSHA: sha, HeadBranch: "main"})
	return run, r.event("schedule", run, sha, "refs/heads/main", map[string]any{"schedule": "17 3 * * *"})
}
