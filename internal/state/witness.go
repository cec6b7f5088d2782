package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/arena-deploy/arena-deploy-action/internal/artifacts"
)

// ErrUntrusted is matched when a stored state is not proven to come from
// a trusted run of this repository (see Witness).
var ErrUntrusted = errors.New("the deploy state is not proven to come from a trusted run")

// ErrUnwitnessed is matched when a state was written but its witness could
// not be uploaded: the next run refuses it until it is adopted.
var ErrUnwitnessed = errors.New("the state was written, but its witness could not be uploaded")

// ErrWitnessUnreadable is matched when the token may not list artifacts
// (a job without actions: read), so no state can be proven by this run.
var ErrWitnessUnreadable = errors.New("the token may not list the state's witnesses (it needs actions: read)")

// WitnessFile is the one file of a witness artifact.
const WitnessFile = "witness.json"

// witnessNames is how many names a witness may take: its own, and <name>-2
// for a run whose upload used the name up (read only when the first name
// does not prove the record: see Check).
const witnessNames = 2

// maxUntrustedWitnesses bounds the run lists spent on witness artifacts of
// runs that are not trusted, newer than any trusted one: past it, someone
// is uploading them, and the state is refused rather than the API spent.
const maxUntrustedWitnesses = 8

// Witness proves where a state folder's record came from. Whoever can push
// can write the state branch (and a pull request's workflow can ask for
// contents: write), so nothing in the record, or in the commit that wrote
// it, says who wrote it. What GitHub binds and no writer chooses is an
// artifact's run: its id, branch and commit, and the run's event. So every
// write of a trusted run (apply, destroy, refresh, adopt: push,
// workflow_dispatch or schedule on the default branch's history) first
// uploads a witness artifact from that run, naming the record it is about
// to commit by its git blob sha; a read lists the target's witnesses (one
// call: the listing's digest of each artifact is the sha256 of its zip,
// which is made the same way from the same record every time, so nothing
// is downloaded), asks who ran the newest trusted one (one run list) and
// accepts the record only if that witness names it. A record no trusted
// witness names, or a newer trusted witness naming another record (the
// state rolled back to an older one, or a write that never landed), is
// ErrUntrusted. An expired witness still proves: the listing keeps its run
// and digest; status and refresh upload it again before it expires.
type Witness struct {
	Finder   *artifacts.Finder
	Uploader uploader // nil: checks only (pull request runs)
	Trust    *Trust
	Name     string // the target's witness artifact
	// RetentionDays is how long a new witness is kept (0: the repository's).
	RetentionDays int
	Now           func() time.Time
	Warn          func(format string, args ...any)

	warned map[int64]bool
}

// witnessDoc is a witness's content: the record it vouches for.
type witnessDoc struct {
	Version int    `json:"version"`
	Store   string `json:"store"`  // where the record is (Describe)
	Record  string `json:"record"` // git blob sha of record.json
}

func witnessFiles(store, record string) ([]artifacts.File, error) {
	doc, err := json.MarshalIndent(witnessDoc{Version: 1, Store: store, Record: record}, "", "  ")
	if err != nil {
		return nil, err
	}
	return []artifacts.File{{Name: WitnessFile, Data: doc}}, nil
}

// witnessDigest is the digest GitHub lists for the witness of record: the
// sha256 of its zip, which is made the same way every time.
func witnessDigest(store, record string) (string, error) {
	files, err := witnessFiles(store, record)
	if err != nil {
		return "", err
	}
	z, err := artifacts.Zip(files)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(z)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// Proof is the witness that proved a record.
type Proof struct {
	Artifact int64
	Name     string
	RunID    int64
	Commit   string // the run's
	Expires  time.Time
	Expired  bool
}

// Due says whether the witness should be uploaded again: it expired, or
// expires within ExpiryWarning.
func (p *Proof) Due(now time.Time) bool {
	return p != nil && (p.Expired || p.Expires.Sub(now) < ExpiryWarning)
}

// UntrustedError says why a state is not proven, and what there is of it.
type UntrustedError struct {
	Store  string
	Reason string
	// Snapshot is the state as loaded, for a command that adopts it.
	Snapshot *Snapshot
	// Commit is the commit that last wrote the record (empty: unknown),
	// and Author who that commit says wrote it (anyone can say anything).
	Commit, Author string
	// Legacy: no witness of this target exists at all; a state written
	// before witnesses (or carried over from an earlier version's file).
	Legacy bool
}

func (e *UntrustedError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrUntrusted, e.Store, e.Reason)
}

// Unwrap makes it match ErrUntrusted.
func (e *UntrustedError) Unwrap() error { return ErrUntrusted }

// Check proves the record of store (its blob sha; "" when the store has
// none) by the target's witnesses. No record and no trusted witness is a
// target never deployed: nil, nil.
func (w *Witness) Check(ctx context.Context, store, record string) (*Proof, error) {
	want := ""
	if record != "" {
		var err error
		if want, err = witnessDigest(store, record); err != nil {
			return nil, err
		}
	}
	// The witness's own name first; its alternate only when that does not
	// prove the record (a run whose upload used the name up takes it).
	var newest *artifacts.Info
	for _, name := range artifacts.Names(w.Name, witnessNames) {
		found, match, err := w.newestTrusted(ctx, name, want)
		if err != nil {
			return nil, err
		}
		if match != nil && (newest == nil || match.ID > newest.ID) {
			return w.proof(match), nil
		}
		if found != nil && (newest == nil || found.ID > newest.ID) {
			newest = found
		}
		if newest != nil && record == "" {
			break // a trusted witness and no record: that is the answer
		}
	}
	switch {
	case newest == nil && record == "":
		return nil, nil
	case newest == nil:
		return nil, &UntrustedError{Store: store, Legacy: true, Reason: "no witness of a trusted run exists for this target: " +
			"the state was written by hand, by a workflow that is not a push, workflow_dispatch or schedule run of the default branch, " +
			"or by a version of arena-deploy-action before witnesses"}
	case record == "":
		return nil, &UntrustedError{Store: store, Reason: fmt.Sprintf("the record was removed after run %d (commit %s) wrote it", newest.RunID, short(newest.HeadSHA))}
	}
	return nil, &UntrustedError{Store: store, Reason: fmt.Sprintf("the newest trusted witness (artifact %d of run %d, commit %s) names another record: "+
		"the state was changed after that run wrote it, or that run's write never landed", newest.ID, newest.RunID, short(newest.HeadSHA))}
}

// newestTrusted lists the witnesses named name and returns the newest of
// a trusted run, and the one proving want if it is that one.
func (w *Witness) newestTrusted(ctx context.Context, name, want string) (*artifacts.Info, *artifacts.Info, error) {
	list, err := w.Finder.List(ctx, name)
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusForbidden {
		return nil, nil, fmt.Errorf("%w: %w", ErrWitnessUnreadable, err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("list the state's witnesses: %w", err)
	}
	newestFirst(list)
	untrusted := 0
	for i := range list {
		info := &list[i]
		ok, checked, err := w.Trust.Run(ctx, info)
		if err != nil {
			return nil, nil, fmt.Errorf("check who wrote the state's witness %d: %w", info.ID, err)
		}
		if ok {
			if ok, checked, err = w.Trust.OnDefaultBranch(ctx, info.HeadSHA); err != nil {
				return nil, nil, fmt.Errorf("check the commit of the state's witness %d: %w", info.ID, err)
			}
		}
		if !ok {
			w.warnIgnored(info)
			if checked {
				untrusted++
			}
			if untrusted > maxUntrustedWitnesses {
				return nil, nil, &UntrustedError{Store: name, Reason: fmt.Sprintf("more than %d witness artifacts %s of runs that may not write state are newer than any trusted one: "+
					"someone is uploading them (delete them: gh api -X DELETE repos/%s/actions/artifacts/<id>)", maxUntrustedWitnesses, name, w.Trust.Repo)}
			}
			continue
		}
		if want != "" && w.proves(ctx, info, want) {
			return info, info, nil
		}
		return info, nil, nil
	}
	return nil, nil, nil
}

// proves says whether the witness info names the record whose witness
// digest is want: by the digest GitHub lists, else by its content.
func (w *Witness) proves(ctx context.Context, info *artifacts.Info, want string) bool {
	if info.Digest != "" {
		return strings.EqualFold(info.Digest, want)
	}
	if info.Expired {
		return false
	}
	data, err := w.Finder.Download(ctx, info.ID)
	if err != nil {
		return false
	}
	sum := sha256.Sum256(data)
	return "sha256:"+hex.EncodeToString(sum[:]) == want
}

func (w *Witness) warnIgnored(info *artifacts.Info) {
	if w.Warn == nil || w.warned[info.ID] {
		return
	}
	if w.warned == nil {
		w.warned = map[int64]bool{}
	}
	w.warned[info.ID] = true
	w.Warn("Ignored the state witness %s (artifact %d): its run %d is not a push, workflow_dispatch or schedule run of %s's default branch %s at a commit of its history.",
		info.Name, info.ID, info.RunID, w.Trust.Repo, w.Trust.DefaultBranch)
}

func (w *Witness) proof(info *artifacts.Info) *Proof {
	return &Proof{Artifact: info.ID, Name: info.Name, RunID: info.RunID, Commit: info.HeadSHA, Expires: info.ExpiresAt, Expired: info.Expired}
}

// Vouch uploads this run's witness for a record about to be written (or
// proven again).
func (w *Witness) Vouch(ctx context.Context, store, record string) error {
	if w.Uploader == nil {
		return errors.New("no artifact service to upload the state's witness")
	}
	files, err := witnessFiles(store, record)
	if err != nil {
		return err
	}
	var expires time.Time
	if w.RetentionDays > 0 && w.Now != nil {
		expires = w.Now().Add(time.Duration(w.RetentionDays) * 24 * time.Hour)
	}
	_, err = w.Uploader.UploadAs(ctx, artifacts.Request{Names: artifacts.Names(w.Name, witnessNames),
		Files: files, ExpiresAt: expires})
	if err != nil {
		return fmt.Errorf("upload the state's witness %s: %w", w.Name, err)
	}
	return nil
}
