package ghemu

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// TwirpPrefix is the results service's path prefix.
const TwirpPrefix = "/twirp/github.actions.results.api.v1.ArtifactService/"

// DefaultRetention is how long artifacts live when no expiry is asked for.
const DefaultRetention = 90 * 24 * time.Hour

var signingKey = []byte("ghemu-blob-signing-key")

type blob struct {
	blocks    map[string][]byte
	data      []byte
	committed bool
}

// RuntimeToken is the ACTIONS_RUNTIME_TOKEN of a run: a JWT whose scp claim
// names the run's results service backend ids (the signature is not checked
// by clients, and not by the emulator either).
func (s *Server) RuntimeToken(run *Run) string {
	enc := base64.RawURLEncoding.EncodeToString
	header := enc([]byte(`{"typ":"JWT","alg":"RS256","x5t":"ghemu"}`))
	payload, _ := json.Marshal(map[string]any{
		"scp": "Actions.ExampleScope Actions.Results:" + run.BackendID + ":" + run.JobBackendID,
		"iss": "vstoken.actions.githubusercontent.test", "nbf": s.Now().Unix(), "exp": s.Now().Add(6 * time.Hour).Unix(),
	})
	return header + "." + enc(payload) + "." + enc([]byte("not-a-real-signature"))
}

// ResultsURL is the ACTIONS_RESULTS_URL value.
func (s *Server) ResultsURL() string { return s.URL + "/" }

func (s *Server) signedURL(kind, key string, ttl time.Duration) string {
	exp := strconv.FormatInt(s.now.Add(ttl).Unix(), 10)
	return fmt.Sprintf("%s/_blob/%s/%s?sv=2023-11-03&se=%s&sig=%s", s.URL, kind, key, exp, sign(kind, key, exp))
}

func sign(kind, key, exp string) string {
	m := hmac.New(sha256.New, signingKey)
	m.Write([]byte(kind + "\n" + key + "\n" + exp))
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Server) resultsRoutes(mux *http.ServeMux) {
	for _, m := range []string{"CreateArtifact", "FinalizeArtifact", "ListArtifacts", "GetSignedArtifactURL", "DeleteArtifact"} {
		method := m
		route := "POST " + TwirpPrefix + method
		mux.HandleFunc(route, func(w http.ResponseWriter, r *http.Request) { s.twirp(w, r, route, method) })
	}
	mux.HandleFunc("PUT /_blob/upload/{key}", s.blobUpload)
	mux.HandleFunc("GET /_blob/download/{key}", s.blobDownload)
}

// twirpError is the Twirp error body.
type twirpError struct {
	Code string `json:"code"`
	Msg  string `json:"msg"`
}

var twirpStatus = map[string]int{"already_exists": 409, "not_found": 404, "invalid_argument": 400, "unauthenticated": 401, "permission_denied": 403, "failed_precondition": 412}

// ids are the backend ids every results request carries.
type ids struct {
	Run string `json:"workflow_run_backend_id"`
	Job string `json:"workflow_job_run_backend_id"`
}

type twirpReq struct {
	ids
	Name       string          `json:"name"`
	Version    json.RawMessage `json:"version"`
	ExpiresAt  string          `json:"expires_at"`
	Size       json.RawMessage `json:"size"`
	Hash       string          `json:"hash"`
	NameFilter string          `json:"name_filter"`
	IDFilter   json.RawMessage `json:"id_filter"`
}

func (s *Server) twirp(w http.ResponseWriter, r *http.Request, route, method string) {
	body, _ := io.ReadAll(r.Body)
	entry := LoggedRequest{Method: r.Method, Path: r.URL.Path, Body: string(body), Route: route}
	f := s.takeFault(route)
	if s.inject(w, f, &entry) {
		return
	}
	if f != nil && f.afterWork() {
		sp := spoil(w, f)
		defer sp.send()
		w = sp
	}
	status, out := s.twirpCall(r, method, body)
	entry.Status = status
	s.record(entry)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(out)
	if s.opts.CamelCaseTwirp && status == 200 {
		b = camelKeys(b)
	}
	_, _ = w.Write(b)
}

func (s *Server) twirpCall(r *http.Request, method string, body []byte) (int, any) {
	fail := func(code, msg string) (int, any) { return twirpStatus[code], twirpError{Code: code, Msg: msg} }
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return fail("invalid_argument", "content-type must be application/json")
	}
	var in twirpReq
	if err := json.Unmarshal(body, &in); err != nil {
		return fail("invalid_argument", "malformed request: "+err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// A delete names the artifact's own job, which may be an earlier
	// attempt's: the token's run must match, not its job.
	run, msg := s.runForToken(r.Header.Get("Authorization"), in.ids, method != "DeleteArtifact")
	if run == nil {
		return fail("unauthenticated", msg)
	}
	switch method {
	case "CreateArtifact":
		return s.createArtifact(run, in)
	case "FinalizeArtifact":
		return s.finalizeArtifact(run, in)
	case "ListArtifacts":
		return s.listRunArtifactsTwirp(run, in)
	case "GetSignedArtifactURL":
		a := s.artifactInRun(run, in.Name)
		if a == nil {
			return fail("not_found", "artifact not found: "+in.Name)
		}
		return 200, map[string]any{"signed_url": s.signedURL("download", a.blobKey, time.Hour)}
	case "DeleteArtifact":
		a := s.artifactInRun(run, in.Name)
		if a == nil || a.JobBackendID != in.Job {
			return fail("not_found", "artifact not found: "+in.Name+" of job "+in.Job)
		}
		a.Deleted = true
		s.deleted(in.Name)
		return 200, map[string]any{"ok": true, "artifact_id": strconv.FormatInt(a.ID, 10)}
	}
	return fail("not_found", "unknown method")
}

// runForToken checks the bearer token's scp claim against the ids: the
// run always, the job when sameJob.
func (s *Server) runForToken(auth string, want ids, sameJob bool) (*Run, string) {
	tok := strings.TrimPrefix(auth, "Bearer ")
	parts := strings.Split(tok, ".")
	if auth == tok || len(parts) != 3 {
		return nil, "missing or malformed runtime token"
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, "malformed runtime token"
	}
	var claims struct {
		Scp string `json:"scp"`
	}
	_ = json.Unmarshal(payload, &claims)
	scope := "Actions.Results:" + want.Run + ":" + want.Job
	for _, sc := range strings.Fields(claims.Scp) {
		parts := strings.Split(sc, ":")
		if len(parts) != 3 || parts[0] != "Actions.Results" || parts[1] != want.Run || (sameJob && parts[2] != want.Job) {
			continue
		}
		if run := s.runsByBID[want.Run]; run != nil && run.JobBackendID == parts[2] {
			return run, ""
		}
	}
	return nil, "the runtime token does not grant " + scope
}

func (s *Server) artifactInRun(run *Run, name string) *Artifact {
	for _, a := range s.repo().artifacts {
		if a.RunID == run.ID && a.Name == name && a.Finalized && !a.Deleted {
			return a
		}
	}
	return nil
}

func (s *Server) createArtifact(run *Run, in twirpReq) (int, any) {
	if in.Name == "" || strings.ContainsAny(in.Name, "\"<>|*?\r\n\\/:") {
		return 400, twirpError{Code: "invalid_argument", Msg: "invalid artifact name " + strconv.Quote(in.Name)}
	}
	if string(in.Version) != "4" {
		return 400, twirpError{Code: "invalid_argument", Msg: "version must be 4"}
	}
	for _, a := range s.repo().artifacts {
		if a.RunID == run.ID && a.Name == in.Name && !a.Deleted {
			return 409, twirpError{Code: "already_exists", Msg: "an artifact with this name already exists on the workflow run"}
		}
	}
	if s.stillTaken(in.Name) {
		return 409, twirpError{Code: "already_exists", Msg: "an artifact with this name already exists on the workflow run"}
	}
	a := &Artifact{ID: s.id(), Name: in.Name, RunID: run.ID, JobBackendID: run.JobBackendID, CreatedAt: s.now, ExpiresAt: s.now.Add(DefaultRetention)}
	if in.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, in.ExpiresAt)
		if err != nil {
			return 400, twirpError{Code: "invalid_argument", Msg: "expires_at: " + err.Error()}
		}
		a.ExpiresAt = t
	}
	a.blobKey = fmt.Sprintf("artifact-%d", a.ID)
	s.blobs[a.blobKey] = &blob{blocks: map[string][]byte{}}
	s.repo().artifacts = append(s.repo().artifacts, a)
	return 200, map[string]any{"ok": true, "signed_upload_url": s.signedURL("upload", a.blobKey, time.Hour)}
}

func (s *Server) finalizeArtifact(run *Run, in twirpReq) (int, any) {
	var a *Artifact
	for _, x := range s.repo().artifacts {
		if x.RunID == run.ID && x.Name == in.Name && !x.Finalized && !x.Deleted {
			a = x
		}
	}
	if a == nil {
		return s.refinalize(run, in)
	}
	b := s.blobs[a.blobKey]
	if !b.committed {
		return 412, twirpError{Code: "failed_precondition", Msg: "the blob was not uploaded"}
	}
	size, err := strconv.ParseInt(strings.Trim(string(in.Size), `"`), 10, 64)
	if err != nil || size != int64(len(b.data)) {
		return 400, twirpError{Code: "invalid_argument", Msg: fmt.Sprintf("size %s does not match the uploaded %d bytes", in.Size, len(b.data))}
	}
	sum := sha256.Sum256(b.data)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	if in.Hash != "" && in.Hash != digest {
		return 400, twirpError{Code: "invalid_argument", Msg: "hash " + in.Hash + " does not match the uploaded content " + digest}
	}
	a.Finalized, a.Size, a.Digest = true, size, digest
	return 200, map[string]any{"ok": true, "artifact_id": strconv.FormatInt(a.ID, 10)}
}

func (s *Server) listRunArtifactsTwirp(run *Run, in twirpReq) (int, any) {
	idFilter := strings.Trim(string(in.IDFilter), `"`)
	list := []any{}
	for _, a := range s.repo().artifacts {
		if a.RunID != run.ID || !a.Finalized || a.Deleted {
			continue
		}
		if (in.NameFilter != "" && a.Name != in.NameFilter) || (idFilter != "" && idFilter != strconv.FormatInt(a.ID, 10)) {
			continue
		}
		list = append(list, map[string]any{
			"workflow_run_backend_id": run.BackendID, "workflow_job_run_backend_id": a.JobBackendID,
			"database_id": strconv.FormatInt(a.ID, 10), "name": a.Name, "size": strconv.FormatInt(a.Size, 10),
			"created_at": ts(a.CreatedAt),
		})
	}
	return 200, map[string]any{"artifacts": list}
}

// camelKeys rewrites snake_case keys to camelCase, as Gitea and act answer.
func camelKeys(b []byte) []byte {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return b
	}
	var walk func(any) any
	walk = func(x any) any {
		switch t := x.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, val := range t {
				parts := strings.Split(k, "_")
				for i := 1; i < len(parts); i++ {
					parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
				}
				out[strings.Join(parts, "")] = walk(val)
			}
			return out
		case []any:
			for i := range t {
				t[i] = walk(t[i])
			}
		}
		return x
	}
	out, _ := json.Marshal(walk(v))
	return out
}

// checkSigned verifies a signed blob URL; "" when it is valid.
func (s *Server) checkSigned(r *http.Request, kind string) string {
	if r.Header.Get("Authorization") != "" {
		return "AuthenticationFailed: requests to a signed URL must not carry an Authorization header"
	}
	q := r.URL.Query()
	key, exp := r.PathValue("key"), q.Get("se")
	if !hmac.Equal([]byte(q.Get("sig")), []byte(sign(kind, key, exp))) {
		return "AuthenticationFailed: signature mismatch"
	}
	n, _ := strconv.ParseInt(exp, 10, 64)
	if s.Now().Unix() > n {
		return "AuthenticationFailed: signed expiry time has passed"
	}
	return ""
}

func blobError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, strings.SplitN(msg, ":", 2)[0], msg)
}

func (s *Server) blobUpload(w http.ResponseWriter, r *http.Request) {
	route := "PUT /_blob/upload/{key}"
	body, _ := io.ReadAll(r.Body)
	entry := LoggedRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Route: route}
	f := s.takeFault(route)
	if s.inject(w, f, &entry) {
		return
	}
	if f != nil && f.afterWork() {
		sp := spoil(w, f)
		defer sp.send()
		w = sp
	}
	status, msg := s.storeBlob(r, body)
	entry.Status = status
	s.record(entry)
	if status >= 300 {
		blobError(w, status, msg)
		return
	}
	w.WriteHeader(status)
}

func (s *Server) storeBlob(r *http.Request, body []byte) (int, string) {
	if msg := s.checkSigned(r, "upload"); msg != "" {
		return 403, msg
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.blobs[r.PathValue("key")]
	if b == nil {
		return 404, "BlobNotFound: no such blob"
	}
	q := r.URL.Query()
	switch q.Get("comp") {
	case "block":
		id := q.Get("blockid")
		if _, err := base64.StdEncoding.DecodeString(id); err != nil || id == "" {
			return 400, "InvalidQueryParameterValue: blockid must be base64"
		}
		for other := range b.blocks {
			if len(other) != len(id) {
				return 400, "InvalidBlobOrBlock: all block ids of a blob must have the same length"
			}
		}
		b.blocks[id] = body
		return 201, ""
	case "blocklist":
		var list struct {
			Latest []string `xml:"Latest"`
		}
		if err := xml.Unmarshal(body, &list); err != nil {
			return 400, "InvalidXmlDocument: " + err.Error()
		}
		var data bytes.Buffer
		for _, id := range list.Latest {
			blk, ok := b.blocks[id]
			if !ok {
				return 400, "InvalidBlockList: block " + id + " was not uploaded"
			}
			data.Write(blk)
		}
		b.data, b.committed = data.Bytes(), true
		return 201, ""
	case "":
		if r.Header.Get("x-ms-blob-type") != "BlockBlob" {
			return 400, "MissingRequiredHeader: x-ms-blob-type"
		}
		b.data, b.committed = body, true
		return 201, ""
	}
	return 400, "InvalidQueryParameterValue: comp"
}

func (s *Server) blobDownload(w http.ResponseWriter, r *http.Request) {
	route := "GET /_blob/download/{key}"
	entry := LoggedRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Route: route}
	f := s.takeFault(route)
	if s.inject(w, f, &entry) {
		return
	}
	if f != nil && f.afterWork() {
		sp := spoil(w, f)
		defer sp.send()
		w = sp
	}
	if msg := s.checkSigned(r, "download"); msg != "" {
		entry.Status = 403
		s.record(entry)
		blobError(w, 403, msg)
		return
	}
	s.mu.Lock()
	b := s.blobs[r.PathValue("key")]
	var data []byte
	if b != nil && b.committed {
		data = b.data
	}
	s.mu.Unlock()
	if data == nil {
		entry.Status = 404
		s.record(entry)
		blobError(w, 404, "BlobNotFound: no such blob")
		return
	}
	entry.Status = 200
	s.record(entry)
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

// refinalize answers a FinalizeArtifact for a name whose artifact this job
// finalized already: GitHub's service answers it "ok" again (the official
// client retries a finalize whose answer timed out), and the run then
// shows two artifacts of that name (actions/upload-artifact#531,
// actions/upload-pages-artifact#97): a second record of the same upload,
// whose id is the one answered.
func (s *Server) refinalize(run *Run, in twirpReq) (int, any) {
	var done *Artifact
	for _, x := range s.repo().artifacts {
		if x.RunID == run.ID && x.JobBackendID == run.JobBackendID && x.Name == in.Name && x.Finalized && !x.Deleted {
			done = x
		}
	}
	if done == nil || (in.Hash != "" && in.Hash != done.Digest) {
		return 404, twirpError{Code: "not_found", Msg: "no artifact " + strconv.Quote(in.Name) + " waiting to be finalized"}
	}
	dup := *done
	dup.ID = s.id()
	s.repo().artifacts = append(s.repo().artifacts, &dup)
	return 200, map[string]any{"ok": true, "artifact_id": strconv.FormatInt(dup.ID, 10)}
}
