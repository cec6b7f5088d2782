package ghemu

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

// twirpCall is a minimal results service client following ARTIFACTS.md.
func twirpCall(t *testing.T, s *Server, token, method string, body map[string]any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", s.URL+TwirpPrefix+method, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func put(t *testing.T, s *Server, u string, q url.Values, body []byte, hdr map[string]string) int {
	t.Helper()
	pu, _ := url.Parse(u)
	v := pu.Query()
	for k, vals := range q {
		v[k] = vals
	}
	pu.RawQuery = v.Encode()
	req, _ := http.NewRequest("PUT", pu.String(), bytes.NewReader(body))
	for k, val := range hdr {
		req.Header.Set(k, val)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// uploadRaw uploads data as an artifact the way the official toolkit does:
// create, blocks in order, block list, finalize with size and sha256.
func uploadRaw(t *testing.T, s *Server, run *Run, name string, data []byte) int64 {
	t.Helper()
	token := s.RuntimeToken(run)
	ids := map[string]any{"workflow_run_backend_id": run.BackendID, "workflow_job_run_backend_id": run.JobBackendID}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range ids {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	status, out := twirpCall(t, s, token, "CreateArtifact", with(map[string]any{"name": name, "version": 4}))
	if status != 200 {
		t.Fatalf("create: %d %v", status, out)
	}
	upload := out["signed_upload_url"].(string)
	var list strings.Builder
	list.WriteString(`<?xml version="1.0" encoding="utf-8"?><BlockList>`)
	for i, off := 0, 0; off < len(data) || i == 0; i++ {
		end := off + 5
		if end > len(data) {
			end = len(data)
		}
		id := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("block-%06d", i)))
		if st := put(t, s, upload, url.Values{"comp": {"block"}, "blockid": {id}}, data[off:end], nil); st != 201 {
			t.Fatalf("block: %d", st)
		}
		list.WriteString("<Latest>" + id + "</Latest>")
		off = end
	}
	list.WriteString("</BlockList>")
	if st := put(t, s, upload, url.Values{"comp": {"blocklist"}}, []byte(list.String()), map[string]string{"x-ms-blob-content-type": "application/zip"}); st != 201 {
		t.Fatalf("blocklist: %d", st)
	}
	sum := sha256.Sum256(data)
	status, out = twirpCall(t, s, token, "FinalizeArtifact", with(map[string]any{"name": name, "size": strconv.Itoa(len(data)), "hash": "sha256:" + hex.EncodeToString(sum[:])}))
	if status != 200 {
		t.Fatalf("finalize: %d %v", status, out)
	}
	id, _ := strconv.ParseInt(out["artifact_id"].(string), 10, 64)
	return id
}

func TestResultsServiceUploadThenRESTDownload(t *testing.T) {
	s := New(t)
	prRun := s.AddRun(Run{Event: "pull_request", HeadSHA: "head1"})
	data := []byte("the zip bytes of a plan artifact, in several blocks")
	id := uploadRaw(t, s, prRun, "arena-plan-production-head1", data)

	// A later run (the merge) finds and downloads it through REST.
	s.AddRun(Run{Event: "push", HeadSHA: "merge1"})
	gh := client(t, s, DefaultToken)
	req, _ := gh.NewRequest("GET", "repos/octo-org/app/actions/artifacts?name=arena-plan-production-head1", nil)
	var list struct {
		TotalCount int `json:"total_count"`
		Artifacts  []struct {
			ID          int64 `json:"id"`
			Size        int64 `json:"size_in_bytes"`
			WorkflowRun struct {
				ID      int64  `json:"id"`
				HeadSHA string `json:"head_sha"`
			} `json:"workflow_run"`
		} `json:"artifacts"`
	}
	if _, err := gh.Do(ctx, req, &list); err != nil {
		t.Fatal(err)
	}
	if list.TotalCount != 1 || list.Artifacts[0].ID != id || list.Artifacts[0].Size != int64(len(data)) || list.Artifacts[0].WorkflowRun.ID != prRun.ID {
		t.Fatalf("list: %+v", list)
	}
	u, _, err := gh.Actions.DownloadArtifact(ctx, DefaultOwner, DefaultRepo, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.Client().Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, data) {
		t.Fatalf("downloaded %q", got)
	}
}

func TestResultsServiceRules(t *testing.T) {
	s := New(t)
	run := s.AddRun(Run{Event: "pull_request", HeadSHA: "h"})
	other := s.AddRun(Run{Event: "pull_request", HeadSHA: "h2"})
	ids := func(r *Run, extra map[string]any) map[string]any {
		m := map[string]any{"workflow_run_backend_id": r.BackendID, "workflow_job_run_backend_id": r.JobBackendID}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	uploadRaw(t, s, run, "dup", []byte("x"))
	if st, out := twirpCall(t, s, s.RuntimeToken(run), "CreateArtifact", ids(run, map[string]any{"name": "dup", "version": 4})); st != 409 || out["code"] != "already_exists" {
		t.Fatalf("duplicate: %d %v", st, out)
	}
	if st, _ := twirpCall(t, s, s.RuntimeToken(other), "CreateArtifact", ids(run, map[string]any{"name": "x", "version": 4})); st != 401 {
		t.Fatalf("token of another run: %d", st)
	}
	st, out := twirpCall(t, s, s.RuntimeToken(run), "CreateArtifact", ids(run, map[string]any{"name": "bad-hash", "version": 4}))
	if st != 200 {
		t.Fatal(st)
	}
	put(t, s, out["signed_upload_url"].(string), nil, []byte("abc"), map[string]string{"x-ms-blob-type": "BlockBlob"})
	if st, out := twirpCall(t, s, s.RuntimeToken(run), "FinalizeArtifact", ids(run, map[string]any{"name": "bad-hash", "size": "3", "hash": "sha256:00"})); st != 400 || !strings.Contains(out["msg"].(string), "does not match") {
		t.Fatalf("bad hash: %d %v", st, out)
	}
	if st, _ := twirpCall(t, s, s.RuntimeToken(run), "FinalizeArtifact", ids(run, map[string]any{"name": "bad-hash", "size": "4"})); st != 400 {
		t.Fatalf("bad size: %d", st)
	}
	st, out = twirpCall(t, s, s.RuntimeToken(run), "ListArtifacts", ids(run, map[string]any{"name_filter": "dup"}))
	if st != 200 || len(out["artifacts"].([]any)) != 1 {
		t.Fatalf("list: %v", out)
	}
	if st, out := twirpCall(t, s, s.RuntimeToken(run), "DeleteArtifact", ids(run, map[string]any{"name": "dup"})); st != 200 || out["ok"] != true {
		t.Fatalf("delete: %v", out)
	}
	if st, _ := twirpCall(t, s, s.RuntimeToken(run), "CreateArtifact", ids(run, map[string]any{"name": "dup", "version": 4})); st != 200 {
		t.Fatalf("re-create after delete: %d", st)
	}
}

func TestResultsServiceCamelCase(t *testing.T) {
	s := New(t, Options{CamelCaseTwirp: true})
	run := s.AddRun(Run{Event: "pull_request", HeadSHA: "h"})
	st, out := twirpCall(t, s, s.RuntimeToken(run), "CreateArtifact", map[string]any{
		"workflow_run_backend_id": run.BackendID, "workflow_job_run_backend_id": run.JobBackendID, "name": "a", "version": 4})
	if st != 200 || out["signedUploadUrl"] == nil {
		t.Fatalf("%d %v", st, out)
	}
}

// TestUnfinalizedArtifactHoldsItsName: what GitHub's results service does
// with an artifact created but never finalized (a lost CreateArtifact
// answer, a refused upload or finalize): the name stays taken for the rest
// of the run, re-runs included, while no listing shows it and the
// toolkit's delete (list, then DeleteArtifact) cannot find it. A finalize
// of it, once its blob is committed, still works.
func TestUnfinalizedArtifactHoldsItsName(t *testing.T) {
	s := New(t)
	run := s.AddRun(Run{Event: "pull_request", HeadSHA: "h"})
	ids := func(r *Run, extra map[string]any) map[string]any {
		m := map[string]any{"workflow_run_backend_id": r.BackendID, "workflow_job_run_backend_id": r.JobBackendID}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	st, out := twirpCall(t, s, s.RuntimeToken(run), "CreateArtifact", ids(run, map[string]any{"name": "held", "version": 4}))
	if st != 200 {
		t.Fatal(st, out)
	}
	upload := out["signed_upload_url"].(string)
	if st, _ := twirpCall(t, s, s.RuntimeToken(run), "CreateArtifact", ids(run, map[string]any{"name": "held", "version": 4})); st != 409 {
		t.Fatalf("second create: %d", st)
	}
	if st, out := twirpCall(t, s, s.RuntimeToken(run), "ListArtifacts", ids(run, map[string]any{"name_filter": "held"})); st != 200 || len(out["artifacts"].([]any)) != 0 {
		t.Fatalf("listed unfinalized: %v", out)
	}
	if st, _ := twirpCall(t, s, s.RuntimeToken(run), "DeleteArtifact", ids(run, map[string]any{"name": "held"})); st != 404 {
		t.Fatalf("delete of an unfinalized artifact: %d", st)
	}
	gh := client(t, s, DefaultToken)
	if list, _, err := gh.Actions.ListWorkflowRunArtifacts(ctx, DefaultOwner, DefaultRepo, run.ID, nil); err != nil || list.GetTotalCount() != 0 {
		t.Fatalf("REST listed it: %v %v", list, err)
	}
	// The job that created it still holds the signed URL: upload and
	// finalize, and it is listed.
	data := []byte("late")
	put(t, s, upload, nil, data, map[string]string{"x-ms-blob-type": "BlockBlob"})
	sum := sha256.Sum256(data)
	if st, out := twirpCall(t, s, s.RuntimeToken(run), "FinalizeArtifact", ids(run, map[string]any{"name": "held", "size": "4", "hash": "sha256:" + hex.EncodeToString(sum[:])})); st != 200 {
		t.Fatalf("finalize: %d %v", st, out)
	}
	if list, _, err := gh.Actions.ListWorkflowRunArtifacts(ctx, DefaultOwner, DefaultRepo, run.ID, nil); err != nil || list.GetTotalCount() != 1 {
		t.Fatalf("not listed once finalized: %v %v", list, err)
	}
	// Another name left unfinalized: a re-run is the same run, still taken.
	if st, _ := twirpCall(t, s, s.RuntimeToken(run), "CreateArtifact", ids(run, map[string]any{"name": "lost", "version": 4})); st != 200 {
		t.Fatal(st)
	}
	rerun := s.Rerun(run.ID)
	if st, _ := twirpCall(t, s, s.RuntimeToken(rerun), "CreateArtifact", ids(rerun, map[string]any{"name": "lost", "version": 4})); st != 409 {
		t.Fatalf("create in a re-run: %d", st)
	}
}

// TestFinalizeAnsweredTwice: a FinalizeArtifact sent again (its first
// answer was lost) is answered ok, and the run shows the artifact twice,
// as GitHub's service does; a finalize with another hash is refused.
func TestFinalizeAnsweredTwice(t *testing.T) {
	s := New(t)
	run := s.AddRun(Run{Event: "pull_request", HeadSHA: "h"})
	data := []byte("plan")
	first := uploadRaw(t, s, run, "twice", data)
	sum := sha256.Sum256(data)
	req := map[string]any{"workflow_run_backend_id": run.BackendID, "workflow_job_run_backend_id": run.JobBackendID, "name": "twice", "size": "4", "hash": "sha256:" + hex.EncodeToString(sum[:])}
	st, out := twirpCall(t, s, s.RuntimeToken(run), "FinalizeArtifact", req)
	if st != 200 || out["ok"] != true || out["artifact_id"] == strconv.FormatInt(first, 10) {
		t.Fatalf("second finalize: %d %v", st, out)
	}
	n := 0
	for _, a := range s.Artifacts() {
		if a.Name == "twice" && a.Finalized && !a.Deleted {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d artifacts named twice, want 2", n)
	}
	req["hash"] = "sha256:00"
	if st, _ := twirpCall(t, s, s.RuntimeToken(run), "FinalizeArtifact", req); st != 404 {
		t.Fatalf("finalize with another hash: %d", st)
	}
}

// TestSpoiledAnswers: Truncate, DropAnswer and Garble do the work and
// spoil only the answer; Skip lets earlier requests of the route through.
func TestSpoiledAnswers(t *testing.T) {
	const route = "PUT /repos/{owner}/{repo}/contents/{path...}"
	for _, f := range []Fault{{Truncate: true}, {DropAnswer: true}, {Garble: true}} {
		s := New(t)
		s.Inject(route, Fault{Truncate: f.Truncate, DropAnswer: f.DropAnswer, Garble: f.Garble, Skip: 1})
		gh := client(t, s, DefaultToken)
		for i, path := range []string{"a.txt", "b.txt"} {
			_, _, err := gh.Repositories.CreateFile(ctx, DefaultOwner, DefaultRepo, path, &github.RepositoryContentFileOptions{
				Message: github.String("m"), Content: []byte(path), Branch: github.String("main")})
			if (err != nil) != (i == 1) {
				t.Fatalf("%+v: write %d: %v", f, i, err)
			}
			if got, ok := s.GetFile("main", path); !ok || string(got) != path {
				t.Fatalf("%+v: %s not written", f, path)
			}
		}
		if f.Garble {
			// The answer came with its status, but not as JSON.
			_, resp, err := gh.Repositories.CreateFile(ctx, DefaultOwner, DefaultRepo, "c.txt", &github.RepositoryContentFileOptions{
				Message: github.String("m"), Content: []byte("c"), Branch: github.String("main")})
			if err != nil || resp.StatusCode != 201 {
				t.Fatalf("after the fault: %v", err)
			}
		}
	}
}
