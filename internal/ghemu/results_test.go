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
