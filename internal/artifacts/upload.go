// Package artifacts uploads workflow artifacts through the results service
// (the "v4" protocol of actions/upload-artifact) and finds and downloads
// artifacts of other runs through the REST API. A Docker action cannot call
// actions/upload-artifact, so it speaks the protocol itself.
package artifacts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/arena-deploy/arena-deploy-action/internal/ghclient"
)

const servicePath = "/twirp/github.actions.results.api.v1.ArtifactService/"

// blockSize is the size of one uploaded block. The archive is made while it
// is uploaded, a block at a time, and a block is kept only until it is
// stored, so that the transport can send it again as it was: the archive
// is never held whole (a first deploy's plan artifact of a 9 MB pack is
// about 5 MB). Tests make it small.
var blockSize = 1 << 20

// Errors callers branch on.
var (
	ErrNoRuntime    = errors.New("the artifact service is not available")
	ErrQuota        = errors.New("artifact storage quota exceeded")
	ErrNotFound     = errors.New("artifact not found")
	ErrExpired      = errors.New("artifact expired")
	ErrTooLarge     = errors.New("artifact too large")
	ErrUnsafeZip    = errors.New("unsafe artifact archive")
	errConflictName = errors.New("artifact name already used in this run")
)

// Uploader uploads artifacts of the current run. Its HTTP client carries
// the retry policy (internal/ghclient); every Twirp call is marked safe to
// repeat, as the official client retries them all.
type Uploader struct {
	resultsURL *url.URL
	token      string
	runID      string
	jobID      string
	http       *http.Client
	// Policy paces the waits for a name freed by a delete (the service may
	// answer "already exists" for a moment after it).
	Policy ghclient.Policy
	// ConflictTries is how often a create is tried after the delete.
	ConflictTries int
}

// NewUploader reads the backend ids from the runtime token's scp claim.
// Both values come from the runner (ACTIONS_RESULTS_URL, ACTIONS_RUNTIME_TOKEN).
// hc should retry by ghclient's policy; nil is http.DefaultClient.
func NewUploader(resultsURL, runtimeToken string, hc *http.Client) (*Uploader, error) {
	if resultsURL == "" || runtimeToken == "" {
		return nil, fmt.Errorf("%w: ACTIONS_RESULTS_URL or ACTIONS_RUNTIME_TOKEN is not set (GitHub Enterprise Server before 3.13, a runner older than 2.308, or not in GitHub Actions)", ErrNoRuntime)
	}
	u, err := url.Parse(resultsURL)
	if err != nil {
		return nil, fmt.Errorf("%w: ACTIONS_RESULTS_URL: %v", ErrNoRuntime, err)
	}
	runID, jobID, err := backendIDs(runtimeToken)
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Uploader{resultsURL: u, token: runtimeToken, runID: runID, jobID: jobID, http: hc, ConflictTries: 4}, nil
}

// backendIDs decodes (without verifying) the JWT and finds
// Actions.Results:<run>:<job> in its scp claim.
func backendIDs(token string) (string, string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", "", fmt.Errorf("%w: the runtime token is not a JWT", ErrNoRuntime)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", "", fmt.Errorf("%w: decode runtime token: %v", ErrNoRuntime, err)
	}
	var claims struct {
		Scp string `json:"scp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", "", fmt.Errorf("%w: decode runtime token: %v", ErrNoRuntime, err)
	}
	for _, sc := range strings.Fields(claims.Scp) {
		parts := strings.Split(sc, ":")
		if len(parts) == 3 && parts[0] == "Actions.Results" {
			return parts[1], parts[2], nil
		}
	}
	return "", "", fmt.Errorf("%w: the runtime token has no Actions.Results scope", ErrNoRuntime)
}

// Upload zips files and uploads them as artifact name (UploadAs with no
// other name to fall back on). It returns the artifact id and the zip size.
func (u *Uploader) Upload(ctx context.Context, name string, files []File, expiresAt time.Time) (int64, int64, error) {
	up, err := u.UploadAs(ctx, Request{Names: []string{name}, Files: files, ExpiresAt: expiresAt})
	return up.ID, up.Size, err
}

// Request is an upload.
type Request struct {
	Names     []string // tried in order (see UploadAs)
	Files     []File
	ExpiresAt time.Time // zero: the repository's retention
	// Keep is an artifact never deleted to free its name (the state a
	// re-run replaces: if the upload then failed, no state would be left);
	// its name is passed over instead.
	Keep int64
}

// Uploaded is an artifact uploaded.
type Uploaded struct {
	Name     string
	ID, Size int64
	// UsedUp are the names tried first and found used up in this run.
	UsedUp []string
}

// Names are the names an upload may take, in order: name, then its
// alternates name-2 … name-n (see UploadAs).
func Names(name string, n int) []string {
	out := []string{name}
	for k := 2; k <= n; k++ {
		out = append(out, name+"-"+strconv.Itoa(k))
	}
	return out
}

// IsAlternate says whether candidate is one of name's alternates
// (name-<k>, k ≥ 2).
func IsAlternate(name, candidate string) bool {
	k, ok := strings.CutPrefix(candidate, name+"-")
	n, err := strconv.Atoi(k)
	return ok && err == nil && n >= 2 && strconv.Itoa(n) == k
}

// UploadAs zips the files and uploads them under the first of the names
// this run can still use, replacing an artifact of that name from an
// earlier attempt of this run (unless it is r.Keep).
//
// GitHub's results service keeps a name for the rest of the run (re-runs
// included) once CreateArtifact made an artifact of it, finalized or not,
// and lists only finalized ones. An upload that failed after its create
// (the create's answer lost, cut off or garbled, a block refused, the
// finalize refused) leaves an artifact no listing shows and no delete
// finds: that name is used up, and the next one is tried.
func (u *Uploader) UploadAs(ctx context.Context, r Request) (Uploaded, error) {
	var up Uploaded
	var err error
	ours := 0 // names this upload used up itself
	for _, name := range r.Names {
		up.Name = name
		var self bool
		up.ID, up.Size, self, err = u.uploadName(ctx, name, r.Files, r.ExpiresAt, r.Keep)
		if !errors.Is(err, errUsedUp) {
			break
		}
		up.UsedUp = append(up.UsedUp, name)
		if self {
			// A create whose answer was lost, cut off or garbled used the
			// name up: the next name is tried, but a second such loss is
			// an outage, and the names left are kept for the re-run. So
			// is a retry's "already exists" that came garbled too: the
			// answers are still garbled, and the next name would go the
			// same way (with two names, the re-run would have none).
			if ours++; ours == 2 || errors.Is(err, errStillGarbled) {
				break
			}
		}
	}
	if err != nil {
		return up, fmt.Errorf("upload artifact %s: %w", up.Name, err)
	}
	return up, nil
}

// errUsedUp: the name is held in this run by an artifact that was never
// finalized.
var errUsedUp = errors.New("the name is used up in this run by an upload that never finished (GitHub keeps it until the run ends)")

// errStillGarbled: the "already exists" that told a name was used up by
// a create whose answer was garbled came garbled itself.
var errStillGarbled = errors.New("the answers are still garbled")

// errKept: the name holds the artifact the upload must not delete.
var errKept = errors.New("it holds the artifact this upload replaces, which is kept until the new one is in place")

// uploadName uploads the archive of files as artifact name: create, blob,
// finalize. It returns the artifact's id and the archive's size.
func (u *Uploader) uploadName(ctx context.Context, name string, files []File, expiresAt time.Time, keep int64) (id, size int64, self bool, err error) {
	var tries int
	signed, err := u.create(ghclient.CountTries(ctx, &tries), name, expiresAt)
	if errors.Is(err, errConflictName) {
		// An earlier attempt's artifact (listed: replaced), or one never
		// finalized (unlisted: the name is used up).
		n, derr := u.deleteExisting(ctx, name, keep)
		if errors.Is(derr, errKept) {
			return 0, 0, false, fmt.Errorf("%w: %w", errUsedUp, derr)
		}
		if derr != nil {
			return 0, 0, false, fmt.Errorf("replace artifact %s from an earlier attempt: %w", name, derr)
		}
		if n == 0 {
			// Unlisted: never finished. "Already exists" after a try
			// without a proper answer: that try made it.
			var se *statusError
			if tries > 1 && errors.As(err, &se) && se.garbled() {
				return 0, 0, true, fmt.Errorf("%w (%w): %w", errUsedUp, errStillGarbled, err)
			}
			return 0, 0, tries > 1, fmt.Errorf("%w: %w", errUsedUp, err)
		}
		signed, err = u.create(ctx, name, expiresAt)
		// The name can stay taken for a moment after the delete.
		for try := 1; errors.Is(err, errConflictName) && try < u.ConflictTries; try++ {
			if serr := u.Policy.Wait(ctx, try); serr != nil {
				return 0, 0, false, serr
			}
			signed, err = u.create(ctx, name, expiresAt)
		}
		if errors.Is(err, errConflictName) {
			return 0, 0, false, fmt.Errorf("%w: %w", errUsedUp, err)
		}
	}
	if err != nil {
		return 0, 0, false, err
	}
	// From here the artifact exists: if it is not finalized, the name
	// stays taken for the run. A refused block or finalize is tried once
	// more on the same artifact (its URL is ours), the archive made again:
	// a passing refusal costs no name, and a lasting one uses up this name
	// alone, leaving the next ones to the re-run.
	for try := 1; ; try++ {
		var sum [sha256.Size]byte
		if size, sum, err = u.putBlob(ctx, signed, files); err == nil {
			var id int64
			if id, err = u.finalize(ctx, name, size, sum); err == nil {
				return id, size, false, nil
			}
			// Finalized although the answer said otherwise: it is listed.
			if found, ferr := u.find(ctx, name); ferr == nil && len(found) > 0 {
				_, _, id := found[0].ids()
				return id, size, false, nil
			}
		}
		if try == 2 || ctx.Err() != nil {
			return 0, 0, false, fmt.Errorf("%s is left unfinished, which uses the name up for this run (a re-run uploads under the next one): %w", name, err)
		}
		if serr := u.Policy.Wait(ctx, try); serr != nil {
			return 0, 0, false, serr
		}
	}
}

// runArtifact is an artifact of this run as the results service lists it.
type runArtifact struct {
	RunID    string          `json:"workflow_run_backend_id"`
	JobID    string          `json:"workflow_job_run_backend_id"`
	CamelRun string          `json:"workflowRunBackendId"`
	CamelJob string          `json:"workflowJobRunBackendId"`
	Name     string          `json:"name"`
	ID       json.RawMessage `json:"database_id"`
	CamelID  json.RawMessage `json:"databaseId"`
}

func (a *runArtifact) ids() (run, job string, id int64) {
	run, job, raw := a.RunID, a.JobID, a.ID
	if run == "" {
		run, job = a.CamelRun, a.CamelJob
	}
	if len(raw) == 0 {
		raw = a.CamelID
	}
	id, _ = strconv.ParseInt(strings.Trim(string(raw), `"`), 10, 64)
	return run, job, id
}

// find lists this run's artifacts named name, newest first.
func (u *Uploader) find(ctx context.Context, name string) ([]runArtifact, error) {
	var list struct {
		Artifacts []runArtifact `json:"artifacts"`
	}
	if err := u.call(ctx, "ListArtifacts", u.ids(map[string]any{"name_filter": name}), &list); err != nil {
		return nil, err
	}
	var out []runArtifact
	for _, a := range list.Artifacts {
		if a.Name == name {
			out = append(out, a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		_, _, a := out[i].ids()
		_, _, b := out[j].ids()
		return a > b
	})
	return out, nil
}

// deleteExisting deletes every artifact named name this run lists, as
// GitHub's toolkit deletes one: found by listing, and deleted with that
// artifact's own run and job ids (an earlier attempt ran as another job).
// The service can list two of one name (a finalize answered twice). It
// returns how many it deleted.
// Delete deletes this run's artifacts named name (none: nothing to do), as
// the toolkit does: an upload made for a write that did not happen.
func (u *Uploader) Delete(ctx context.Context, name string) error {
	_, err := u.deleteExisting(ctx, name, 0)
	return err
}

func (u *Uploader) deleteExisting(ctx context.Context, name string, keep int64) (int, error) {
	found, err := u.find(ctx, name)
	if err != nil {
		return 0, err
	}
	for _, a := range found {
		if _, _, id := a.ids(); keep != 0 && id == keep {
			return 0, fmt.Errorf("%w (artifact %d)", errKept, id)
		}
	}
	for _, a := range found {
		run, job, _ := a.ids()
		err := u.call(ctx, "DeleteArtifact", map[string]any{
			"workflow_run_backend_id": run, "workflow_job_run_backend_id": job, "name": name,
		}, nil)
		var se *statusError
		if errors.As(err, &se) && se.status == http.StatusNotFound {
			continue // gone meanwhile (a retried delete whose answer was lost)
		}
		if err != nil {
			return 0, err
		}
	}
	return len(found), nil
}

func (u *Uploader) ids(extra map[string]any) map[string]any {
	m := map[string]any{"workflow_run_backend_id": u.runID, "workflow_job_run_backend_id": u.jobID}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// create makes the artifact and returns its signed upload URL.
func (u *Uploader) create(ctx context.Context, name string, expiresAt time.Time) (string, error) {
	create := u.ids(map[string]any{"name": name, "version": 4})
	if !expiresAt.IsZero() {
		create["expires_at"] = expiresAt.UTC().Format(time.RFC3339)
	}
	var created struct {
		OK              bool   `json:"ok"`
		SignedUploadURL string `json:"signed_upload_url"`
		CamelURL        string `json:"signedUploadUrl"`
	}
	if err := u.call(ctx, "CreateArtifact", create, &created); err != nil {
		return "", err
	}
	uploadURL := created.SignedUploadURL
	if uploadURL == "" {
		uploadURL = created.CamelURL
	}
	if uploadURL == "" {
		return "", fmt.Errorf("%w: CreateArtifact answered without an upload URL", errUsedUp)
	}
	return uploadURL, nil
}

// finalize finalizes the uploaded artifact and returns its id. Sent again
// (its answer lost), GitHub answers it ok, with a second record of it.
func (u *Uploader) finalize(ctx context.Context, name string, size int64, sum [sha256.Size]byte) (int64, error) {
	var fin struct {
		OK         bool            `json:"ok"`
		ArtifactID json.RawMessage `json:"artifact_id"`
		CamelID    json.RawMessage `json:"artifactId"`
	}
	if err := u.call(ctx, "FinalizeArtifact", u.ids(map[string]any{
		"name": name, "size": strconv.FormatInt(size, 10), "hash": "sha256:" + hex.EncodeToString(sum[:]),
	}), &fin); err != nil {
		return 0, err
	}
	raw := fin.ArtifactID
	if len(raw) == 0 {
		raw = fin.CamelID
	}
	id, err := strconv.ParseInt(strings.Trim(string(raw), `"`), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("FinalizeArtifact answered an invalid artifact id %s", raw)
	}
	return id, nil
}

// putBlob makes the archive of files and uploads it as an Azure block
// blob while it is made: blocks in order, then the block list. The signed
// URL already carries a query: parameters are added. It returns the
// archive's size and sha256.
func (u *Uploader) putBlob(ctx context.Context, signed string, files []File) (int64, [sha256.Size]byte, error) {
	bw := &blockWriter{ctx: ctx, u: u, signed: signed, h: sha256.New()}
	bw.list.WriteString(`<?xml version="1.0" encoding="utf-8"?><BlockList>`)
	err := WriteZip(bw, files)
	if err == nil && (len(bw.buf) > 0 || bw.n == 0) {
		err = bw.put() // the last block (the only one of a small archive)
	}
	var sum [sha256.Size]byte
	if err != nil {
		return 0, sum, err
	}
	bw.list.WriteString("</BlockList>")
	if err := u.put(ctx, signed, url.Values{"comp": {"blocklist"}}, bw.list.Bytes(), map[string]string{"x-ms-blob-content-type": "application/zip"}); err != nil {
		return 0, sum, fmt.Errorf("commit block list: %w", err)
	}
	bw.h.Sum(sum[:0])
	return bw.size, sum, nil
}

// blockWriter uploads what is written to it a block at a time.
type blockWriter struct {
	ctx    context.Context
	u      *Uploader
	signed string
	h      hash.Hash
	buf    []byte
	n      int   // blocks stored
	size   int64 // bytes written
	list   bytes.Buffer
}

func (w *blockWriter) Write(p []byte) (int, error) {
	w.h.Write(p)
	w.size += int64(len(p))
	n := len(p)
	for len(p) > 0 {
		if w.buf == nil {
			w.buf = make([]byte, 0, blockSize)
		}
		k := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf, p = w.buf[:len(w.buf)+k], p[k:]
		if len(w.buf) == cap(w.buf) {
			if err := w.put(); err != nil {
				return 0, &sinkError{err}
			}
		}
	}
	return n, nil
}

// put stores the block in buf. The transport sends it again as it is if
// an attempt fails; once it is stored, its buffer holds the next block.
func (w *blockWriter) put() error {
	id := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("block-%08d", w.n))) // all ids the same length
	if err := w.u.put(w.ctx, w.signed, url.Values{"comp": {"block"}, "blockid": {id}}, w.buf, nil); err != nil {
		w.buf = nil // an attempt may still be reading it: never written again
		return fmt.Errorf("upload block %d: %w", w.n, err)
	}
	w.list.WriteString("<Latest>" + id + "</Latest>")
	w.n++
	w.buf = w.buf[:0]
	return nil
}

func (u *Uploader) put(ctx context.Context, signed string, params url.Values, body []byte, hdr map[string]string) error {
	pu, err := url.Parse(signed)
	if err != nil {
		return fmt.Errorf("signed upload URL: %w", err)
	}
	q := pu.Query()
	for k, v := range params {
		q[k] = v
	}
	pu.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, pu.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	_, err = u.do(req) // never the runtime token: the URL is signed
	return err
}

// call makes one Twirp JSON call; the client retries it.
func (u *Uploader) call(ctx context.Context, method string, in map[string]any, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	endpoint := u.resultsURL.Scheme + "://" + u.resultsURL.Host + servicePath + method
	req, err := http.NewRequestWithContext(ghclient.Idempotent(ctx), http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+u.token)
	resp, err := u.do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	if out != nil {
		if err := json.Unmarshal(resp, out); err != nil {
			return fmt.Errorf("%s: decode answer: %w", method, err)
		}
	}
	return nil
}

// do sends req and reads the answer; a non-2xx answer is an error.
func (u *Uploader) do(req *http.Request) ([]byte, error) {
	resp, err := u.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	switch status := resp.StatusCode; {
	case status < 300:
		return b, nil
	case status == http.StatusConflict:
		return nil, fmt.Errorf("%w: %w", errConflictName, &statusError{status, string(b)})
	case strings.Contains(string(b), "insufficient usage"):
		return nil, fmt.Errorf("%w: %w (free storage in the repository's Actions settings or lower retention)", ErrQuota, &statusError{status, string(b)})
	default:
		return nil, &statusError{status, string(b)}
	}
}

// statusError is a non-2xx answer.
type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string {
	var te struct {
		Code string `json:"code"`
		Msg  string `json:"msg"`
	}
	if json.Unmarshal([]byte(e.body), &te) == nil && te.Msg != "" {
		return fmt.Sprintf("HTTP %d %s: %s", e.status, te.Code, te.Msg)
	}
	b := e.body
	if !isText(b) {
		// A body garbled on its way (a proxy's gzip bytes): quoted, it
		// would fill the log, the summary and the comment with noise.
		return fmt.Sprintf("HTTP %d (a body of %d bytes that is not text)", e.status, len(b))
	}
	if len(b) > 300 {
		b = strings.ToValidUTF8(b[:300], "") + "…"
	}
	return fmt.Sprintf("HTTP %d: %s", e.status, strings.TrimSpace(b))
}

// garbled says whether the answer's body is not what the service sends
// (a Twirp error's JSON, or nothing): mangled on its way.
func (e *statusError) garbled() bool {
	b := strings.TrimSpace(e.body)
	return b != "" && !json.Valid([]byte(b))
}

// isText says whether b is UTF-8 text without control characters other
// than white space.
func isText(b string) bool {
	if !utf8.ValidString(b) {
		return false
	}
	for _, r := range b {
		if (r < ' ' && r != '\t' && r != '\n' && r != '\r') || r == 0x7f {
			return false
		}
	}
	return true
}
