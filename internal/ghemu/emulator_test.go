package ghemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

func client(t *testing.T, s *Server, token string) *github.Client {
	t.Helper()
	return s.GitHubClient(token)
}

var ctx = context.Background()

// addedOperations are the operations the repository's copy of GitHub's
// description holds beyond shared/'s: each cut from the same published
// description (@octokit/openapi 23.0.2) when the action first called it,
// and named in the copy's README.
var addedOperations = map[string]bool{
	"GET /repos/{owner}/{repo}/actions/runs/{run_id}":   true, // lock liveness: is the holder's run still going
	"GET /repos/{owner}/{repo}/rules/branches/{branch}": true, // how protected the state branch is
	"GET /repos/{owner}/{repo}/commits":                 true, // who last wrote a state file
}

// TestSpecCopyMatchesShared: the copy validating the emulator holds every
// operation of shared/'s description exactly as it is there, and nothing
// else but the operations added from the same source (addedOperations).
func TestSpecCopyMatchesShared(t *testing.T) {
	shared := filepath.Join(filepath.Dir(SpecPath()), "..", "..", "..", "..", "shared", "reference", "github", "rest-api-subset.json")
	want, err := os.ReadFile(shared)
	if err != nil {
		t.Skip("shared/ not beside the repo")
	}
	got, err := os.ReadFile(SpecPath())
	if err != nil {
		t.Fatal(err)
	}
	type spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	parse := func(b []byte) (map[string]json.RawMessage, map[string]map[string]json.RawMessage) {
		var top map[string]json.RawMessage
		var s spec
		if err := json.Unmarshal(b, &top); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		delete(top, "paths")
		return top, s.Paths
	}
	wantTop, wantPaths := parse(want)
	gotTop, gotPaths := parse(got)
	for k, v := range wantTop {
		if !bytes.Equal(compact(t, v), compact(t, gotTop[k])) {
			t.Errorf("%s differs from shared/: copy it again", k)
		}
	}
	for path, ops := range wantPaths {
		for method, op := range ops {
			if !bytes.Equal(compact(t, op), compact(t, gotPaths[path][method])) {
				t.Errorf("%s %s differs from shared/ or is missing: copy it again", strings.ToUpper(method), path)
			}
		}
	}
	readme, _ := os.ReadFile(strings.TrimSuffix(SpecPath(), ".json") + ".README.md")
	for path, ops := range gotPaths {
		for method := range ops {
			if _, ok := wantPaths[path][method]; ok {
				continue
			}
			name := strings.ToUpper(method) + " " + path
			if !addedOperations[name] {
				t.Errorf("%s is not in shared/'s description nor one added from GitHub's published one", name)
			}
		}
	}
	for name := range addedOperations {
		method, path, _ := strings.Cut(name, " ")
		if _, ok := gotPaths[path][strings.ToLower(method)]; !ok {
			t.Errorf("%s is listed as added and is not in the copy", name)
		}
	}
	if !bytes.Contains(readme, []byte("@octokit/openapi")) {
		t.Error("the copy's README does not name its source")
	}
}

func compact(t *testing.T, b []byte) []byte {
	t.Helper()
	if b == nil {
		return nil
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestCommentPaginationAcrossPages(t *testing.T) {
	s := New(t)
	pr := s.AddPull(Pull{HeadSHA: "aaa"})
	for i := 0; i < 65; i++ {
		s.AddComment(pr.Number, "someone", fmt.Sprintf("comment %d", i))
	}
	gh := client(t, s, DefaultToken)
	var all []*github.IssueComment
	opt := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 30}}
	pages := 0
	for {
		got, resp, err := gh.Issues.ListComments(ctx, DefaultOwner, DefaultRepo, pr.Number, opt)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, got...)
		if pages == 1 && resp.LastPage != 3 {
			t.Errorf("last page %d, want 3", resp.LastPage)
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	if pages != 3 || len(all) != 65 || all[64].GetBody() != "comment 64" || all[0].GetUser().GetLogin() != "someone" {
		t.Fatalf("pages %d, comments %d", pages, len(all))
	}
}

func TestCommentLifecycle(t *testing.T) {
	s := New(t)
	pr := s.AddPull(Pull{HeadSHA: "aaa"})
	gh := client(t, s, DefaultToken)
	c, resp, err := gh.Issues.CreateComment(ctx, DefaultOwner, DefaultRepo, pr.Number, &github.IssueComment{Body: github.String("hi")})
	if err != nil || resp.StatusCode != 201 || c.GetUser().GetLogin() != BotLogin || c.GetUser().GetType() != "Bot" {
		t.Fatalf("create: %v %v", c, err)
	}
	c, _, err = gh.Issues.EditComment(ctx, DefaultOwner, DefaultRepo, c.GetID(), &github.IssueComment{Body: github.String("edited")})
	if err != nil || c.GetBody() != "edited" {
		t.Fatalf("edit: %v", err)
	}
	got, _, err := gh.Issues.GetComment(ctx, DefaultOwner, DefaultRepo, c.GetID())
	if err != nil || got.GetBody() != "edited" {
		t.Fatalf("get: %v", err)
	}
	if _, err := gh.Issues.DeleteComment(ctx, DefaultOwner, DefaultRepo, c.GetID()); err != nil {
		t.Fatal(err)
	}
	if len(s.Comments(pr.Number)) != 0 {
		t.Fatal("not deleted")
	}
	_, resp, err = gh.Issues.CreateComment(ctx, DefaultOwner, DefaultRepo, 999, &github.IssueComment{Body: github.String("x")})
	if resp == nil || resp.StatusCode != 404 {
		t.Fatalf("missing issue: %v", err)
	}
}

func TestMalformedRequestIsCaught(t *testing.T) {
	s := New(t)
	pr := s.AddPull(Pull{HeadSHA: "aaa"})
	gh := client(t, s, DefaultToken)
	_, resp, err := gh.Issues.CreateComment(ctx, DefaultOwner, DefaultRepo, pr.Number, &github.IssueComment{})
	if resp == nil || resp.StatusCode != 422 {
		t.Fatalf("want 422, got %v", err)
	}
	v := s.TakeViolations()
	if len(v) != 1 || v[0].Kind != "request" || !strings.Contains(v[0].Message, `property "body" is missing`) {
		t.Fatalf("violations: %+v", v)
	}
}

func TestAuth(t *testing.T) {
	s := New(t)
	pr := s.AddPull(Pull{HeadSHA: "aaa"})
	s.AddToken("ghs_fork", BotLogin, map[string]string{"issues": Read, "pull_requests": Read, "actions": Read})
	cases := []struct {
		token  string
		status int
		msg    string
	}{
		{"", 401, "Requires authentication"},
		{"ghs_wrong", 401, "Bad credentials"},
		{"ghs_fork", 403, "Resource not accessible by integration"},
	}
	for _, tc := range cases {
		_, resp, err := client(t, s, tc.token).Issues.CreateComment(ctx, DefaultOwner, DefaultRepo, pr.Number, &github.IssueComment{Body: github.String("x")})
		var er *github.ErrorResponse
		if !errors.As(err, &er) || resp.StatusCode != tc.status || er.Message != tc.msg {
			t.Errorf("token %q: %v", tc.token, err)
		}
	}
	// Reads are allowed with read permission.
	if _, _, err := client(t, s, "ghs_fork").Issues.ListComments(ctx, DefaultOwner, DefaultRepo, pr.Number, nil); err != nil {
		t.Error(err)
	}
}

func TestContentsCompareAndSwap(t *testing.T) {
	s := New(t)
	gh := client(t, s, DefaultToken)
	path := ".promptarena/envs/production/deploy.state"
	opts := &github.RepositoryContentFileOptions{Message: github.String("state [skip ci]"), Content: []byte("v1"), Branch: github.String("main")}
	res, resp, err := gh.Repositories.CreateFile(ctx, DefaultOwner, DefaultRepo, path, opts)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("create: %v", err)
	}
	sha1 := res.Content.GetSHA()
	if sha1 != BlobSHA([]byte("v1")) {
		t.Fatalf("sha %s", sha1)
	}
	// Create over an existing file without sha: 422.
	_, resp, _ = gh.Repositories.CreateFile(ctx, DefaultOwner, DefaultRepo, path, opts)
	if resp.StatusCode != 422 {
		t.Fatalf("create over existing: %d", resp.StatusCode)
	}
	opts.Content, opts.SHA = []byte("v2"), github.String(sha1)
	if _, _, err := gh.Repositories.UpdateFile(ctx, DefaultOwner, DefaultRepo, path, opts); err != nil {
		t.Fatal(err)
	}
	// The same sha again is stale now: 409, nothing overwritten.
	opts.Content = []byte("v3")
	_, resp, _ = gh.Repositories.UpdateFile(ctx, DefaultOwner, DefaultRepo, path, opts)
	if resp.StatusCode != 409 {
		t.Fatalf("stale sha: %d", resp.StatusCode)
	}
	fc, _, _, err := gh.Repositories.GetContents(ctx, DefaultOwner, DefaultRepo, path, &github.RepositoryContentGetOptions{Ref: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := fc.GetContent(); got != "v2" {
		t.Fatalf("content %q", got)
	}
	if n := len(s.Commits("main")); n != 2 {
		t.Fatalf("commits %d", n)
	}
	_, _, resp, _ = gh.Repositories.GetContents(ctx, DefaultOwner, DefaultRepo, "nope/x", nil)
	if resp.StatusCode != 404 {
		t.Fatalf("missing: %d", resp.StatusCode)
	}
}

// TestContentsDirectory: a folder's path answers its listing, as GitHub
// does: files with their blob ids, sub-folders as dirs, no content.
func TestContentsDirectory(t *testing.T) {
	s := New(t)
	gh := client(t, s, DefaultToken)
	s.SetFile("main", "out/index.json", []byte("{}"))
	s.SetFile("main", "out/run-1.json", []byte("{\"RunID\":\"run-1\"}"))
	s.SetFile("main", "out/deep/x.txt", []byte("x"))
	file, dir, _, err := gh.Repositories.GetContents(ctx, DefaultOwner, DefaultRepo, "out", &github.RepositoryContentGetOptions{Ref: "main"})
	if err != nil || file != nil {
		t.Fatalf("listing: %v, file %v", err, file)
	}
	got := map[string]string{}
	for _, e := range dir {
		got[e.GetName()] = e.GetType() + ":" + e.GetSHA()
		if e.Content != nil {
			t.Errorf("%s has content in a listing", e.GetName())
		}
	}
	want := map[string]string{"index.json": "file:" + BlobSHA([]byte("{}")), "run-1.json": "file:" + BlobSHA([]byte("{\"RunID\":\"run-1\"}"))}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	if !strings.HasPrefix(got["deep"], "dir:") || len(got) != 3 {
		t.Errorf("listing %v", got)
	}
	if _, _, resp, _ := gh.Repositories.GetContents(ctx, DefaultOwner, DefaultRepo, "ou", nil); resp.StatusCode != 404 {
		t.Errorf("a prefix that is no folder: %d", resp.StatusCode)
	}
	if v := s.Violations(); len(v) > 0 {
		t.Errorf("the listing breaks GitHub's API description: %+v", v)
	}
}

func TestFaultsSeenByClient(t *testing.T) {
	route := "GET /repos/{owner}/{repo}/issues/{issue_number}/comments"
	cases := []struct {
		name  string
		fault Fault
		check func(t *testing.T, resp *github.Response, err error)
	}{
		{"503 twice then ok", Fault{Status: 503, Times: 2}, func(t *testing.T, resp *github.Response, err error) {
			if resp == nil || resp.StatusCode != 503 {
				t.Fatalf("got %v", err)
			}
		}},
		{"secondary rate limit", Fault{Status: 403, Secondary: true, RetryAfter: "7"}, func(t *testing.T, _ *github.Response, err error) {
			var abuse *github.AbuseRateLimitError
			if !errors.As(err, &abuse) || abuse.GetRetryAfter() != 7*time.Second {
				t.Fatalf("got %v", err)
			}
		}},
		{"primary rate limit", Fault{Status: 403, Primary: true}, func(t *testing.T, _ *github.Response, err error) {
			var rl *github.RateLimitError
			if !errors.As(err, &rl) {
				t.Fatalf("got %v", err)
			}
		}},
		{"429", Fault{Status: 429, RetryAfter: "3"}, func(t *testing.T, resp *github.Response, err error) {
			if resp == nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" {
				t.Fatalf("got %v", err)
			}
		}},
		// net/http retries a reset GET once on its own: the fault holds for both.
		{"connection reset", Fault{Reset: true, Times: 2}, func(t *testing.T, _ *github.Response, err error) {
			if err == nil {
				t.Fatal("reset went unnoticed")
			}
		}},
		{"truncated body", Fault{Truncate: true}, func(t *testing.T, _ *github.Response, err error) {
			if err == nil || !strings.Contains(err.Error(), "unexpected EOF") {
				t.Fatalf("got %v", err)
			}
		}},
		{"slow", Fault{Delay: 50 * time.Millisecond}, func(t *testing.T, _ *github.Response, err error) {
			if err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := New(t)
			pr := s.AddPull(Pull{HeadSHA: "aaa"})
			s.AddComment(pr.Number, "someone", "hello")
			s.Inject(route, tc.fault)
			gh := client(t, s, DefaultToken)
			_, resp, err := gh.Issues.ListComments(ctx, DefaultOwner, DefaultRepo, pr.Number, nil)
			tc.check(t, resp, err)
			// Once the fault is used up, the route answers again.
			for i := 1; i < tc.fault.Times; i++ {
				_, _, _ = client(t, s, DefaultToken).Issues.ListComments(ctx, DefaultOwner, DefaultRepo, pr.Number, nil)
			}
			got, _, err := client(t, s, DefaultToken).Issues.ListComments(ctx, DefaultOwner, DefaultRepo, pr.Number, nil)
			if err != nil || len(got) != 1 {
				t.Fatalf("after the fault: %v", err)
			}
		})
	}
}

func TestPullsRunsIssuesReleases(t *testing.T) {
	s := New(t)
	gh := client(t, s, DefaultToken)
	pr := s.AddPull(Pull{HeadSHA: "head1", HeadRef: "feature", BaseSHA: "base1"})
	s.MergePull(pr.Number, "squash1")
	got, _, err := gh.PullRequests.ListPullRequestsWithCommit(ctx, DefaultOwner, DefaultRepo, "squash1", nil)
	if err != nil || len(got) != 1 || got[0].GetNumber() != pr.Number || got[0].GetHead().GetSHA() != "head1" {
		t.Fatalf("commit pulls: %v %v", got, err)
	}
	p, _, err := gh.PullRequests.Get(ctx, DefaultOwner, DefaultRepo, pr.Number)
	if err != nil || !p.GetMerged() || p.GetMergeCommitSHA() != "squash1" {
		t.Fatalf("pull: %v", err)
	}
	s.AddRun(Run{Event: "pull_request", HeadSHA: "head1"})
	s.AddRun(Run{Event: "push", HeadSHA: "squash1"})
	runs, _, err := gh.Actions.ListRepositoryWorkflowRuns(ctx, DefaultOwner, DefaultRepo, &github.ListWorkflowRunsOptions{Event: "pull_request", HeadSHA: "head1"})
	if err != nil || runs.GetTotalCount() != 1 || runs.WorkflowRuns[0].GetEvent() != "pull_request" {
		t.Fatalf("runs: %v", err)
	}
	is, _, err := gh.Issues.Create(ctx, DefaultOwner, DefaultRepo, &github.IssueRequest{Title: github.String("drift"), Labels: &[]string{"arena-drift"}})
	if err != nil {
		t.Fatal(err)
	}
	list, _, err := gh.Issues.ListByRepo(ctx, DefaultOwner, DefaultRepo, &github.IssueListByRepoOptions{Labels: []string{"arena-drift"}})
	if err != nil || len(list) != 1 {
		t.Fatalf("issues: %v", err)
	}
	if _, _, err := gh.Issues.Edit(ctx, DefaultOwner, DefaultRepo, is.GetNumber(), &github.IssueRequest{State: github.String("closed")}); err != nil {
		t.Fatal(err)
	}
	s.AddRelease("AltairaLabs/PromptArena-deploy-omnia", "v1.4.0", map[string][]byte{"promptarena-deploy-omnia_linux_amd64": []byte("\x7fELF")})
	rel, _, err := gh.Repositories.GetReleaseByTag(ctx, "AltairaLabs", "PromptArena-deploy-omnia", "v1.4.0")
	if err != nil || len(rel.Assets) != 1 {
		t.Fatalf("release: %v", err)
	}
	rc, _, err := gh.Repositories.DownloadReleaseAsset(ctx, "AltairaLabs", "PromptArena-deploy-omnia", rel.Assets[0].GetID(), s.Client())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "\x7fELF" {
		t.Fatalf("asset %q", b)
	}
}

// TestArtifactDownloadRedirectThenGone: 302 to a signed URL that must be
// fetched without the token; 410 once the artifact has expired.
func TestArtifactDownloadRedirectThenGone(t *testing.T) {
	s := New(t)
	run := s.AddRun(Run{Event: "pull_request", HeadSHA: "head1"})
	id := uploadRaw(t, s, run, "arena-plan-default-head1", []byte("PK-zip-bytes"))
	gh := client(t, s, DefaultToken)
	u, resp, err := gh.Actions.DownloadArtifact(ctx, DefaultOwner, DefaultRepo, id, 0)
	if err != nil || resp.StatusCode != 302 {
		t.Fatalf("download: %v", err)
	}
	req, _ := http.NewRequest("GET", u.String(), nil)
	req.Header.Set("Authorization", "token "+DefaultToken)
	r, _ := s.Client().Do(req)
	if r.StatusCode != 403 {
		t.Fatalf("blob with token: %d", r.StatusCode)
	}
	r, err = s.Client().Get(u.String())
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("blob: %v %d", err, r.StatusCode)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if string(b) != "PK-zip-bytes" {
		t.Fatalf("content %q", b)
	}
	s.Advance(2 * time.Minute) // the signed URL is short-lived
	if r, _ := s.Client().Get(u.String()); r.StatusCode != 403 {
		t.Fatalf("expired URL: %d", r.StatusCode)
	}
	list, _, err := gh.Actions.ListArtifacts(ctx, DefaultOwner, DefaultRepo, nil)
	if err != nil || list.GetTotalCount() != 1 || list.Artifacts[0].GetExpired() {
		t.Fatalf("list: %v", err)
	}
	s.Advance(DefaultRetention)
	_, resp, _ = gh.Actions.DownloadArtifact(ctx, DefaultOwner, DefaultRepo, id, 0)
	if resp.StatusCode != 410 {
		t.Fatalf("expired artifact: %d", resp.StatusCode)
	}
	a, _, _ := gh.Actions.GetArtifact(ctx, DefaultOwner, DefaultRepo, id)
	if !a.GetExpired() {
		t.Fatal("not marked expired")
	}
}
