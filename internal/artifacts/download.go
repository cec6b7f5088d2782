package artifacts

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/arena-deploy/arena-deploy-action/internal/ghclient"
)

// Info describes an artifact found through the REST API.
type Info struct {
	ID        int64
	Name      string
	Size      int64
	Expired   bool
	CreatedAt time.Time
	ExpiresAt time.Time
	RunID     int64
	HeadSHA   string
	// HeadBranch is the branch of the run that uploaded it, as GitHub
	// binds it (a tag's name for a tag's run).
	HeadBranch string
	FromFork   bool
	// Digest is GitHub's sha256 of the uploaded zip ("sha256:<hex>"; empty
	// where the server does not say).
	Digest string
}

// Finder finds and downloads artifacts of the repository's runs.
type Finder struct {
	gh          *github.Client
	owner, repo string
	blob        *http.Client // for signed URLs: never carries the token
	MaxBytes    int64
}

// NewFinder returns a Finder. blob fetches signed URLs and must not add the
// token (http.DefaultClient when nil).
func NewFinder(gh *github.Client, owner, repo string, blob *http.Client) *Finder {
	if blob == nil {
		blob = http.DefaultClient
	}
	return &Finder{gh: gh, owner: owner, repo: repo, blob: blob, MaxBytes: 512 << 20}
}

type restArtifact struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Size        int64     `json:"size_in_bytes"`
	Expired     bool      `json:"expired"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	Digest      string    `json:"digest"`
	WorkflowRun *struct {
		ID               int64  `json:"id"`
		RepositoryID     int64  `json:"repository_id"`
		HeadRepositoryID int64  `json:"head_repository_id"`
		HeadSHA          string `json:"head_sha"`
		HeadBranch       string `json:"head_branch"`
	} `json:"workflow_run"`
}

func (a *restArtifact) info() Info {
	info := Info{ID: a.ID, Name: a.Name, Size: a.Size, Expired: a.Expired, CreatedAt: a.CreatedAt, ExpiresAt: a.ExpiresAt, Digest: a.Digest}
	if a.WorkflowRun != nil {
		info.RunID, info.HeadSHA, info.HeadBranch = a.WorkflowRun.ID, a.WorkflowRun.HeadSHA, a.WorkflowRun.HeadBranch
		info.FromFork = a.WorkflowRun.HeadRepositoryID != 0 && a.WorkflowRun.HeadRepositoryID != a.WorkflowRun.RepositoryID
	}
	return info
}

// List returns the repository's artifacts named name, newest first, all
// pages. go-github v60 has no name filter, so the request is built here.
func (f *Finder) List(ctx context.Context, name string) ([]Info, error) {
	u := fmt.Sprintf("repos/%s/%s/actions/artifacts?name=%s&per_page=100", f.owner, f.repo, url.QueryEscape(name))
	out, err := f.pages(ctx, u, "artifacts "+name, func(n string) bool { return n == name })
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

// pages lists, every page of u (a listing of artifacts with per_page
// set), the artifacts whose names keep accepts; what names the listing in
// its error.
func (f *Finder) pages(ctx context.Context, u, what string, keep func(name string) bool) ([]Info, error) {
	var out []Info
	for page := 1; ; page++ {
		req, err := f.gh.NewRequest("GET", fmt.Sprintf("%s&page=%d", u, page), nil)
		if err != nil {
			return nil, err
		}
		var list struct {
			Artifacts []restArtifact `json:"artifacts"`
		}
		resp, err := f.gh.Do(ctx, req, &list)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", what, err)
		}
		for _, a := range list.Artifacts {
			if keep(a.Name) {
				out = append(out, a.info())
			}
		}
		if resp.NextPage == 0 {
			return out, nil
		}
	}
}

// RunIDs returns the ids of the repository's runs of event for headSHA.
func (f *Finder) RunIDs(ctx context.Context, event, headSHA string) (map[int64]bool, error) {
	ids := map[int64]bool{}
	opt := &github.ListWorkflowRunsOptions{Event: event, HeadSHA: headSHA, ListOptions: github.ListOptions{PerPage: 100}}
	for {
		runs, resp, err := f.gh.Actions.ListRepositoryWorkflowRuns(ctx, f.owner, f.repo, opt)
		if err != nil {
			return nil, fmt.Errorf("list %s runs for %s: %w", event, headSHA, err)
		}
		for _, r := range runs.WorkflowRuns {
			if r.GetHeadRepository().GetFullName() == "" || r.GetHeadRepository().GetFullName() == f.owner+"/"+f.repo {
				ids[r.GetID()] = true
			}
		}
		if resp.NextPage == 0 {
			return ids, nil
		}
		opt.Page = resp.NextPage
	}
}

// Latest finds the newest artifact named name made by a pull_request run of
// this repository (never a fork's) for headSHA. Expired ones are reported as
// ErrExpired when nothing newer exists. When none has that name, it looks
// for the name's alternates (name-2 …) among those runs' artifacts: the
// run's upload took one when the name was used up (see UploadAs).
func (f *Finder) Latest(ctx context.Context, name, headSHA string) (*Info, error) {
	all, err := f.List(ctx, name)
	if err != nil {
		return nil, err
	}
	runs, err := f.RunIDs(ctx, "pull_request", headSHA)
	if err != nil {
		return nil, err
	}
	info, err := newestOf(all, runs, name, headSHA)
	if !errors.Is(err, ErrNotFound) {
		return info, err
	}
	alts, lerr := f.runAlternates(ctx, runs, name)
	if lerr != nil {
		return nil, lerr
	}
	if len(alts) == 0 {
		if len(all) == 0 {
			return nil, fmt.Errorf("%w: no artifact %s", ErrNotFound, name)
		}
		return nil, err
	}
	return newestOf(append(all, alts...), runs, name, headSHA)
}

// newestOf picks the newest live artifact of list made by one of runs.
func newestOf(list []Info, runs map[int64]bool, name, headSHA string) (*Info, error) {
	sort.SliceStable(list, func(i, j int) bool {
		if !list[i].CreatedAt.Equal(list[j].CreatedAt) {
			return list[i].CreatedAt.After(list[j].CreatedAt)
		}
		return list[i].ID > list[j].ID // ids grow; created_at has seconds
	})
	var expired *Info
	for i := range list {
		a := &list[i]
		if a.FromFork || !runs[a.RunID] {
			continue
		}
		if a.Expired {
			if expired == nil {
				expired = a
			}
			continue
		}
		return a, nil
	}
	if expired != nil {
		return expired, fmt.Errorf("%w: %s expired at %s", ErrExpired, expired.Name, expired.ExpiresAt.Format(time.RFC3339))
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: no artifact %s", ErrNotFound, name)
	}
	return nil, fmt.Errorf("%w: %s exists, but not from a pull_request run of this repository for %s", ErrNotFound, name, headSHA)
}

// runAlternates lists the artifacts of runs whose names are alternates of
// name.
func (f *Finder) runAlternates(ctx context.Context, runs map[int64]bool, name string) ([]Info, error) {
	ids := make([]int64, 0, len(runs))
	for id := range runs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var out []Info
	for _, id := range ids {
		l, err := f.OfRun(ctx, id, func(n string) bool { return IsAlternate(name, n) })
		if err != nil {
			return nil, err
		}
		out = append(out, l...)
	}
	return out, nil
}

// OfRun lists the artifacts of one run whose names keep accepts.
func (f *Finder) OfRun(ctx context.Context, id int64, keep func(name string) bool) ([]Info, error) {
	u := fmt.Sprintf("repos/%s/%s/actions/runs/%d/artifacts?per_page=100", f.owner, f.repo, id)
	return f.pages(ctx, u, fmt.Sprintf("the artifacts of run %d", id), keep)
}

// Download fetches an artifact's zip: the API answers 302 with a short-lived
// signed URL, fetched without the token; 410 means it expired.
func (f *Finder) Download(ctx context.Context, id int64) ([]byte, error) {
	u, resp, err := f.gh.Actions.DownloadArtifact(ctx, f.owner, f.repo, id, 3)
	if resp != nil && resp.StatusCode == http.StatusGone {
		return nil, fmt.Errorf("%w: artifact %d is gone", ErrExpired, id)
	}
	if err != nil {
		var er *github.ErrorResponse
		switch {
		case resp != nil && !errors.As(err, &er):
			// go-github says only "unexpected status code" for an answer
			// other than the redirect: keep it GitHub's answer.
			err = &github.ErrorResponse{Response: resp.Response, Message: err.Error()}
		case resp == nil && !errors.As(err, &er) && ctx.Err() == nil:
			// go-github makes this request on its transport directly, so
			// no answer comes without http.Client's *url.Error.
			err = &url.Error{Op: "Get", URL: fmt.Sprintf("repos/%s/%s/actions/artifacts/%d/zip", f.owner, f.repo, id), Err: err}
		}
		return nil, fmt.Errorf("download artifact %d: %w", id, err)
	}
	// A body that is no zip (garbled on its way) is asked for again, like
	// one cut off: the retry policy's, not a damaged artifact.
	req, err := http.NewRequestWithContext(ghclient.Expect(ctx, isZip), http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	r, err := f.blob.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download artifact %d: %w", id, err)
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		// Storage's refusal is GitHub's answer too (classified as such).
		return nil, fmt.Errorf("download artifact %d: %w", id, &github.ErrorResponse{Response: r, Message: "artifact storage answered " + r.Status})
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, f.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("download artifact %d: %w", id, err)
	}
	if int64(len(data)) > f.MaxBytes {
		return nil, fmt.Errorf("%w: artifact %d is larger than %d bytes", ErrTooLarge, id, f.MaxBytes)
	}
	return data, nil
}

// isZip says whether b opens as a zip archive (its central directory is
// where it says).
func isZip(b []byte) error {
	_, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	return err
}
