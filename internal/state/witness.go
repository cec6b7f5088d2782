package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/arena-deploy/arena-deploy-action/internal/artifacts"
)

// ErrUntrusted is matched when a stored state is not proven to come from
// a trusted run of this repository (see Witness).
var ErrUntrusted = errors.New("the deploy state is not proven to come from a trusted run")

// ErrUnwitnessed is matched when a state was not written because its
// witness could not be uploaded: a record no run can prove is never
// committed.
var ErrUnwitnessed = errors.New("the state's witness could not be uploaded, so the state was not written")

// ErrWitnessUnreadable is matched when the token may not list artifacts
// (a job without actions: read), so no state can be proven by this run.
var ErrWitnessUnreadable = errors.New("the token may not list the state's witnesses (it needs actions: read)")

// WitnessFile is the one file of a witness artifact.
const WitnessFile = "witness.json"

// witnessNames is how many names one run attempt's witness may take: its
// own, then <name>-2 … when an upload that never finished used it up.
// GitHub keeps a used-up name for the rest of the run, re-runs included, so
// a re-run's witnesses take names of their own (<name>-a<attempt>, …). Reads
// list <name> alone; the others are found among the artifacts of the run
// the record names (see Check).
const witnessNames = 5

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
	Uploader WitnessUploader // nil: checks only (pull request runs)
	Trust    *Trust
	Name     string // the target's witness artifact
	// Run and Attempt are this run's id and attempt: a re-run's witnesses
	// take names of their own, and an earlier attempt's witness of a write
	// that never landed does not stop the re-run that retries it.
	Run     int64
	Attempt int
	// RetentionDays is how long a new witness is kept (0: the repository's).
	RetentionDays int
	Now           func() time.Time
	Warn          func(format string, args ...any)

	warned map[int64]bool
	listed []artifacts.Info // the target's witnesses, once listed (Vouched)
}

// WitnessUploader uploads this run's witnesses, and withdraws one made for
// a write that did not happen.
type WitnessUploader interface {
	UploadAs(ctx context.Context, r artifacts.Request) (artifacts.Uploaded, error)
	Delete(ctx context.Context, name string) error
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
	// File names the file kept beside the state that is not the one the
	// proven record names (the record itself is proven: there is nothing
	// to adopt; the file is put back).
	File string
}

func (e *UntrustedError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrUntrusted, e.Store, e.Reason)
}

// Unwrap makes it match ErrUntrusted.
func (e *UntrustedError) Unwrap() error { return ErrUntrusted }

// Check proves the record of store (its blob sha; "" when the store has
// none) by the target's witnesses; run is the run the record says wrote it
// (0: none), where a witness under another of the target's names is looked
// for when <name> proves nothing. No record and no trusted witness is a
// target never deployed: nil, nil.
func (w *Witness) Check(ctx context.Context, store, record string, run int64) (*Proof, error) {
	want := ""
	if record != "" {
		var err error
		if want, err = witnessDigest(store, record); err != nil {
			return nil, err
		}
	}
	newest, match, err := w.newestTrusted(ctx, w.Name, want)
	if err != nil {
		return nil, err
	}
	if match != nil {
		return w.proof(match), nil
	}
	if record != "" && run != 0 {
		// A run whose upload used a name up (or a re-run) wrote its
		// witness under another of the target's names: among that run's
		// artifacts (GitHub binds them to it whatever the record says).
		if match, err = w.ofRun(ctx, run, want); err != nil {
			return nil, err
		}
		if match != nil && (newest == nil || match.ID > newest.ID) {
			return w.proof(match), nil
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
		"the state was changed after that run wrote it, or that run's write never landed (a re-run of that run then goes on from the state before)", newest.ID, newest.RunID, short(newest.HeadSHA))}
}

// ofRun finds, among the artifacts of run named like the target's
// witnesses, the newest proving want, if that run is trusted.
func (w *Witness) ofRun(ctx context.Context, run int64, want string) (*artifacts.Info, error) {
	list, err := w.Finder.OfRun(ctx, run, w.isWitness)
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound {
		return nil, nil // no such run (the record says what it likes)
	}
	if err != nil {
		return nil, fmt.Errorf("list the state's witnesses of run %d: %w", run, err)
	}
	newestFirst(list)
	return w.firstProving(ctx, list, want)
}

// firstProving is the first witness of list that proves want and that a
// trusted run wrote (nil: none); the others that prove it are said
// ignored.
func (w *Witness) firstProving(ctx context.Context, list []artifacts.Info, want string) (*artifacts.Info, error) {
	for i := range list {
		info := &list[i]
		if !w.proves(ctx, info, want) {
			continue
		}
		ok, _, err := w.Trust.Run(ctx, info)
		if err == nil && ok {
			ok, _, err = w.Trust.OnDefaultBranch(ctx, info.HeadSHA)
		}
		if err != nil {
			return nil, fmt.Errorf("check who wrote the state's witness %d: %w", info.ID, err)
		}
		if ok {
			return info, nil
		}
		w.warnIgnored(info)
	}
	return nil, nil
}

// isWitness says whether an artifact name is one of the target's witness
// names: <name>, <name>-<k>, <name>-a<attempt>[-<k>].
func (w *Witness) isWitness(name string) bool {
	rest, ok := strings.CutPrefix(name, w.Name)
	return ok && (rest == "" || strings.HasPrefix(rest, "-"))
}

// names are the names this run attempt's witness may take.
func (w *Witness) names() []string {
	base := w.Name
	if w.Attempt > 1 {
		base += "-a" + strconv.Itoa(w.Attempt)
	}
	return artifacts.Names(base, witnessNames)
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
		proves := want != "" && w.proves(ctx, info, want)
		if proves {
			return info, info, nil
		}
		if w.Run != 0 && info.RunID == w.Run {
			// An earlier attempt of this run vouched for a write that
			// never landed (its failure kept the state aside): this
			// attempt retries it from the state before, which must be
			// proven by the witnesses before it.
			continue
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
// proven again), and returns the name it took.
func (w *Witness) Vouch(ctx context.Context, store, record string) (string, error) {
	if w.Uploader == nil {
		return "", errors.New("no artifact service to upload the state's witness")
	}
	files, err := witnessFiles(store, record)
	if err != nil {
		return "", err
	}
	var expires time.Time
	if w.RetentionDays > 0 && w.Now != nil {
		expires = w.Now().Add(time.Duration(w.RetentionDays) * 24 * time.Hour)
	}
	up, err := w.Uploader.UploadAs(ctx, artifacts.Request{Names: w.names(),
		Files: files, ExpiresAt: expires})
	if err != nil {
		return up.Name, fmt.Errorf("upload the state's witness %s: %w", w.Name, err)
	}
	return up.Name, nil
}

// Withdraw deletes this run's witness named name, made for a write that
// did not land (or whose upload failed, and may have been finalized all the
// same): left in place, it would name a record the store never held, and
// the next run would stop. Best effort: a failure is a warning.
func (w *Witness) Withdraw(ctx context.Context, name string) {
	if w.Uploader == nil || name == "" {
		return
	}
	if err := w.Uploader.Delete(ctx, name); err != nil && w.Warn != nil {
		w.Warn("The witness %s of a state write that did not happen could not be deleted (%s): the next run stops with state-untrusted until the state is adopted.", name, err)
	}
}
