package state

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
)

// Files of a target's folder on the state branch.
const (
	RecordFile       = "record.json"
	DeployedPackFile = "deployed.pack.json"
	LockRecordFile   = "lock.json"
)

// Branch keeps each target's state in its own folder (target.StateDir())
// of a state branch that holds nothing else, so protected default
// branches, pull request rules and CI triggers never meet it. The branch
// is created on first use as an orphan through the Git Data API.
//
// A folder holds deploy.state (PromptKit's format, for the promptarena
// CLI), record.json (the sidecar: serial, applied commit, plan id and the
// exact bytes of deploy.state, so one read per run loads both),
// deployed.pack.json (the pack last applied) and, while a run holds it,
// lock.json. Every write is one commit of one tree, moved onto the branch
// by a fast-forward-only ref update: the compare-and-swap.
//
// With StatePath set, it is the committed file (state-branch: ”): the
// state at StatePath on Branch (the checked-out branch), its record at
// StatePath+".record.json" and the lock at StatePath+".lock", written the
// same way (no applied pack is kept: it is in the repository already).
type Branch struct {
	GH          *github.Client
	Owner, Repo string
	Branch      string
	Dir         string
	// StatePath, when set, is the committed file (instead of Dir).
	StatePath string
	Env       string
	// Legacy is the state file of earlier versions (.promptarena/deploy.state
	// on the default branch), read once when the folder has no record yet.
	Legacy Loader
	Lock   LockOptions
	// Witness proves where the record came from (nil: it is not asked).
	Witness *Witness
	// CheckPack makes Load check, with the record, that deployed.pack.json
	// is the one the proven record names (one listing of the folder): the
	// commands that deploy from the state or report on it (apply, destroy,
	// refresh, status) refuse a pack rewritten or removed beside a proven
	// record before anything runs, as a plan does when it reads the pack.
	CheckPack bool

	held   *heldLock
	author string    // the author of the orphan commit this run made
	loaded *Snapshot // the last proven load
	pack   *packRead
}

// Loader reads a state without writing it: the file of earlier versions a
// Branch carries over.
type Loader interface {
	Load(ctx context.Context) (*Snapshot, error)
	Describe() string
}

// Describe implements Backend.
func (b *Branch) Describe() string {
	if b.StatePath != "" {
		return b.StatePath + " on " + b.Branch
	}
	return b.Dir + "/ on branch " + b.Branch
}

// file is where a file of the target is kept ("" for the applied pack of
// the committed file, which keeps none). Beside the committed file, every
// other file is named after it: <state-path>.lock, <state-path>.<name>.
func (b *Branch) file(name string) string {
	if b.StatePath == "" {
		return path.Join(b.Dir, name)
	}
	switch name {
	case deploy.StateFile:
		return b.StatePath
	case RecordFile:
		return b.StatePath + RecordSuffix
	case LockRecordFile:
		return b.StatePath + ".lock"
	case DeployedPackFile:
		return ""
	}
	return b.StatePath + "." + name
}

// RecordSuffix names the committed file's record: the state path with it.
const RecordSuffix = ".record.json"

func (b *Branch) locker() *contentsLock {
	l := &contentsLock{gh: b.GH, owner: b.Owner, repo: b.Repo, branch: b.Branch, path: b.file(LockRecordFile), opts: b.Lock}
	if b.StatePath == "" {
		l.create = b.createBranch // the checked-out branch exists
	}
	return l
}

// LockTarget implements Locker: a lock record in the target's folder. The
// first write of a run, so it is also the proof that the store is writable.
func (b *Branch) LockTarget(ctx context.Context, h Holder, wait time.Duration) (Lease, error) {
	held, err := b.locker().lock(ctx, h, wait)
	if err != nil {
		return nil, err
	}
	b.held = held
	return held, nil
}

// createBranch makes the state branch as an orphan holding the lock
// record: a tree, a commit without parents, a ref.
func (b *Branch) createBranch(ctx context.Context, lock []byte) (*github.RepositoryContentResponse, error) {
	tree, commit, err := b.orphan(ctx, []*github.TreeEntry{blobEntry(b.file(LockRecordFile), lock)})
	if err != nil {
		return nil, err
	}
	return &github.RepositoryContentResponse{Content: &github.RepositoryContent{SHA: github.String(BlobSHA(lock))},
		Commit: github.Commit{SHA: github.String(commit), Tree: &github.Tree{SHA: github.String(tree)}, Author: &github.CommitAuthor{Name: github.String(b.author)}}}, nil
}

// Writer is who this run writes the state as (the author GitHub gave the
// commit of our lock); "" before the lock is held.
func (b *Branch) Writer() string {
	if b.held == nil {
		return ""
	}
	return b.held.writer
}

// orphan creates the branch with entries as its first commit.
func (b *Branch) orphan(ctx context.Context, entries []*github.TreeEntry) (string, string, error) {
	where := "branch " + b.Branch
	fail := func(resp *github.Response, err error) (string, string, error) {
		if refusal(resp, err) {
			return "", "", notWritable(where, err)
		}
		return "", "", fmt.Errorf("create the state branch %s: %w", b.Branch, err)
	}
	tree, resp, err := b.GH.Git.CreateTree(ctx, b.Owner, b.Repo, "", entries)
	if err != nil {
		return fail(resp, err)
	}
	commit, resp, err := b.GH.Git.CreateCommit(ctx, b.Owner, b.Repo, &github.Commit{
		Message: github.String("arena-deploy: state branch (deploy state of every target; never merge it) [skip ci]"), Tree: tree}, nil)
	if err != nil {
		return fail(resp, err)
	}
	b.author = commit.GetAuthor().GetName()
	_, resp, err = b.GH.Git.CreateRef(ctx, b.Owner, b.Repo, &github.Reference{Ref: github.String("refs/heads/" + b.Branch), Object: &github.GitObject{SHA: commit.SHA}})
	if err != nil {
		return fail(resp, err)
	}
	return tree.GetSHA(), commit.GetSHA(), nil
}

func blobEntry(p string, content []byte) *github.TreeEntry {
	return &github.TreeEntry{Path: github.String(p), Mode: github.String("100644"), Type: github.String("blob"), Content: github.String(string(content))}
}

func deleteEntry(p string) *github.TreeEntry {
	return &github.TreeEntry{Path: github.String(p), Mode: github.String("100644"), Type: github.String("blob")}
}

// ref is where reads look: the commit of our lock once held (everything
// after it is ours to write), else the branch.
func (b *Branch) ref() string {
	if b.held != nil && b.held.commit != "" {
		return b.held.commit
	}
	return b.Branch
}

// readFile reads a file of the folder; nil when there is none. Files over
// 1 MB come without content from the contents API: those are read as blobs.
func (b *Branch) readFile(ctx context.Context, name string) ([]byte, string, error) {
	fc, _, resp, err := b.GH.Repositories.GetContents(ctx, b.Owner, b.Repo, b.file(name), &github.RepositoryContentGetOptions{Ref: b.ref()})
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read %s on %s: %w", b.file(name), b.Branch, err)
	}
	if fc == nil {
		return nil, "", fmt.Errorf("read %s on %s: it is a directory", b.file(name), b.Branch)
	}
	if fc.GetEncoding() == "none" || (fc.GetSize() > 0 && fc.Content != nil && *fc.Content == "") {
		raw, err := readBlob(ctx, b.GH, b.Owner, b.Repo, fc.GetSHA())
		return raw, fc.GetSHA(), err
	}
	text, err := fc.GetContent()
	if err != nil {
		return nil, "", err
	}
	return []byte(text), fc.GetSHA(), nil
}

func readBlob(ctx context.Context, gh *github.Client, owner, repo, sha string) ([]byte, error) {
	blob, _, err := gh.Git.GetBlob(ctx, owner, repo, sha)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", sha, err)
	}
	if blob.GetEncoding() != "base64" {
		return []byte(blob.GetContent()), nil
	}
	return base64.StdEncoding.DecodeString(blob.GetContent())
}

// Load implements Backend. It reads record.json alone (it carries the
// state's bytes); a folder without one is new, and the state of earlier
// versions is carried over from Legacy. With a Witness, the record is
// used only once proven (see Witness): before it is even parsed.
func (b *Branch) Load(ctx context.Context) (*Snapshot, error) {
	raw, sha, err := b.readFile(ctx, RecordFile)
	if err != nil {
		return nil, err
	}
	var snap *Snapshot
	if raw == nil {
		snap, err = b.migrate(ctx)
	} else {
		snap, err = b.parse(raw, sha)
	}
	if perr := b.prove(ctx, snap, sha); perr != nil {
		return nil, perr
	}
	if err != nil {
		return nil, err
	}
	if err := b.checkPack(ctx, snap); err != nil {
		return nil, err
	}
	b.loaded = snap
	return snap, nil
}

// checkPack checks (with CheckPack and a Witness) that the folder holds the
// deployed.pack.json the proven record names: its blob sha from a listing
// of the folder, not its bytes (a pack of megabytes is not read for it).
func (b *Branch) checkPack(ctx context.Context, snap *Snapshot) error {
	if !b.CheckPack || b.Witness == nil || snap == nil || snap.Record == nil || snap.Record.PackSHA == "" || b.file(DeployedPackFile) == "" {
		return nil
	}
	_, entries, resp, err := b.GH.Repositories.GetContents(ctx, b.Owner, b.Repo, b.Dir, &github.RepositoryContentGetOptions{Ref: b.ref()})
	if err != nil && (resp == nil || resp.StatusCode != http.StatusNotFound) {
		return fmt.Errorf("load state %s: list the folder: %w", b.Describe(), err)
	}
	sha := ""
	for _, e := range entries {
		if e.GetName() == DeployedPackFile && e.GetType() == "file" {
			sha = e.GetSHA()
		}
	}
	if sha == snap.Record.PackSHA {
		return nil
	}
	return b.besideChanged(ctx, snap, DeployedPackFile, snap.Record.PackSHA, sha == "")
}

// besideChanged is the refusal of a file kept beside the state that is not
// the one the proven record names (want, its blob sha): changed, or gone.
func (b *Branch) besideChanged(ctx context.Context, snap *Snapshot, name, want string, gone bool) error {
	commit, author := b.lastCommitOf(ctx, b.file(name), b.Branch)
	reason := name + " is not the one the state's record names: it was changed after the run that wrote the record"
	if gone {
		reason = name + " is missing, though the state's record names it: it was removed after the run that wrote the record"
	}
	return &UntrustedError{Store: b.Describe(), Snapshot: snap, Commit: commit, Author: author, File: name,
		Reason: reason + putBack(name, want, commit, author)}
}

func (b *Branch) parse(raw []byte, sha string) (*Snapshot, error) {
	var rec Record
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("load state %s: %w: %s is not JSON (%v)", b.Describe(), deploy.ErrCorrupt, RecordFile, err)
	}
	snap := &Snapshot{Record: &rec, Version: sha}
	if rec.State == "" {
		return snap, nil // destroyed: the record remains, the state is gone
	}
	st, err := decode([]byte(rec.State), b.Describe(), b.Env)
	if err != nil {
		return nil, err
	}
	snap.State, snap.Raw = st, []byte(rec.State)
	return snap, nil
}

// prove checks the record (blob sha record, "" for none) by its witness,
// and keeps the proof in snap. A state carried over from an earlier
// version's file has no witness: it is proven by nobody.
func (b *Branch) prove(ctx context.Context, snap *Snapshot, record string) error {
	if b.Witness == nil {
		return nil
	}
	var run int64
	if snap != nil && snap.Record != nil {
		run = snap.Record.RunID
	}
	proof, err := b.Witness.Check(ctx, b.Describe(), record, run)
	var untrusted *UntrustedError
	if err == nil && proof == nil && snap != nil && snap.Migrated != "" {
		untrusted = &UntrustedError{Store: b.Describe(), Legacy: true,
			Reason: "the state is " + snap.Migrated + ", written by a version of arena-deploy-action before witnesses (or by hand), and no run has proven it since"}
		untrusted.Commit, untrusted.Author = b.lastCommit(ctx, b.Legacy)
		err = untrusted
	} else if errors.As(err, &untrusted) && record != "" {
		untrusted.Commit, untrusted.Author = b.lastCommit(ctx, nil)
	}
	if untrusted != nil {
		untrusted.Snapshot = snap
		return untrusted
	}
	if err != nil {
		return fmt.Errorf("load state %s: %w", b.Describe(), err)
	}
	if snap != nil {
		snap.Proof = proof
	}
	return nil
}

// lastCommit is the commit that last changed the record (or the file of
// the earlier version), and the author it names, for a message: anyone
// can write any author into a commit, so it is never trusted.
func (b *Branch) lastCommit(ctx context.Context, legacy Loader) (string, string) {
	if g, ok := legacy.(*Git); ok {
		return b.lastCommitOf(ctx, g.Path, g.Branch)
	}
	return b.lastCommitOf(ctx, b.file(RecordFile), b.Branch)
}

func (b *Branch) lastCommitOf(ctx context.Context, p, branch string) (string, string) {
	commits, _, err := b.GH.Repositories.ListCommits(ctx, b.Owner, b.Repo, &github.CommitsListOptions{SHA: branch, Path: p, ListOptions: github.ListOptions{PerPage: 1}})
	if err != nil || len(commits) == 0 {
		return "", ""
	}
	c := commits[0]
	who := c.GetAuthor().GetLogin()
	if who == "" {
		who = c.GetCommit().GetAuthor().GetName()
	}
	return c.GetSHA(), who
}

// migrate reads the state of earlier versions, once: the first save on the
// state branch carries it over, and the record then exists.
func (b *Branch) migrate(ctx context.Context) (*Snapshot, error) {
	if b.Legacy == nil {
		return &Snapshot{}, nil
	}
	old, err := b.Legacy.Load(ctx)
	if err != nil || old.State == nil {
		return &Snapshot{}, err
	}
	if b.Lock.Warn != nil && b.StatePath == "" {
		b.Lock.Warn("Carrying the deploy state over from %s to %s (once). The old file is left as it was; delete it when every job uses the state branch.", b.Legacy.Describe(), b.Describe())
	}
	return &Snapshot{State: old.State, Raw: old.Raw, Migrated: b.Legacy.Describe()}, nil
}

// Save implements Backend: deploy.state, the record and the applied pack
// in one commit that also releases our lock.
func (b *Branch) Save(ctx context.Context, w *Write, base *Snapshot) (string, error) {
	files := map[string][]byte{}
	var stateRaw []byte
	if w.State != nil {
		var err error
		if stateRaw, err = encode(w.State); err != nil {
			return "", err
		}
		files[deploy.StateFile] = stateRaw
	}
	rec := nextRecord(base, w, stateRaw)
	keepsPack := b.file(DeployedPackFile) != ""
	if !keepsPack {
		rec.PackSHA = ""
	}
	recRaw, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return "", err
	}
	files[RecordFile] = recRaw
	if w.Pack != nil && keepsPack {
		files[DeployedPackFile] = w.Pack
	}
	for name, b := range w.Files {
		files[name] = b
	}
	var deletes []string
	if w.State == nil && base != nil {
		// What exists is known from what was loaded: the record's state and
		// pack, or (the committed file) the state of an earlier version in
		// the very place of ours.
		if (base.Record != nil && base.Record.State != "") || (b.StatePath != "" && base.Migrated != "" && base.Raw != nil) {
			deletes = append(deletes, deploy.StateFile)
		}
		if base.Record != nil && base.Record.PackSHA != "" && keepsPack {
			deletes = append(deletes, DeployedPackFile)
		}
	}
	// The witness goes first, so a record that lands always has one. A
	// record without it is never committed: the write fails like any
	// other (the caller keeps the state aside). A witness whose write
	// then did not land is withdrawn; left, it would name a record the
	// store never held, and the next run would stop.
	witness := ""
	if b.Witness != nil {
		want := BlobSHA(recRaw)
		var err error
		if witness, err = b.Witness.Vouch(ctx, b.Describe(), want); err != nil {
			b.Witness.Withdraw(ctx, witness)
			return "", fmt.Errorf("save state %s: %w: %v", b.Describe(), ErrUnwitnessed, err)
		}
	}
	sha, err := b.commit(ctx, files, deletes, base, w.Message)
	if err != nil {
		if witness != "" && !b.mayHaveLanded(ctx, BlobSHA(recRaw)) {
			b.Witness.Withdraw(ctx, witness)
		}
		return "", err
	}
	b.loaded = nil
	return sha, nil
}

// mayHaveLanded says whether a record (its blob sha) may be the branch's
// after a write that failed: unless the branch is read and holds another,
// it may.
func (b *Branch) mayHaveLanded(ctx context.Context, record string) bool {
	_, sha, err := b.readAt(ctx, RecordFile, b.Branch)
	return err != nil || sha == record
}

// Renew uploads this run's witness of the record loaded (and proven) last,
// when it expires soon: the listing keeps an expired witness's run and
// digest, but GitHub may drop it in time. The caller holds the lock, so no
// write lands in between; false: nothing was due.
func (b *Branch) Renew(ctx context.Context, now time.Time) (bool, error) {
	snap := b.loaded
	if b.Witness == nil || snap == nil || snap.Version == "" || !snap.Proof.Due(now) {
		return false, nil
	}
	_, err := b.Witness.Vouch(ctx, b.Describe(), snap.Version)
	return true, err
}

// Delete implements Backend: the state and the pack go, the record stays
// (serial and applied commit keep counting, so nothing older is applied
// after a destroy by mistake).
func (b *Branch) Delete(ctx context.Context, base *Snapshot, message string) error {
	_, err := b.Save(ctx, &Write{Message: message}, base)
	return err
}

// commit writes files (and removes deletes) in the folder as one commit,
// releasing our lock in it. A ref update refused because another target
// moved the branch is retried on the new head while our lock is still
// there; finding our record already on the branch (an answer lost on the
// way back) is success.
func (b *Branch) commit(ctx context.Context, files map[string][]byte, deletes []string, base *Snapshot, message string) (string, error) {
	head, tree := "", ""
	if b.held != nil {
		head, tree = b.held.commit, b.held.tree
	}
	if head == "" {
		// Without our lock (the CLI's tests, a direct use), compare the
		// record with the one loaded first.
		var err error
		head, tree, err = b.head(ctx)
		if errors.Is(err, errNoBranch) && versionOf(base) == "" {
			entries := make([]*github.TreeEntry, 0, len(files))
			for _, name := range sortedKeys(files) {
				entries = append(entries, blobEntry(b.file(name), files[name]))
			}
			_, sha, err := b.orphan(ctx, entries)
			return sha, err
		}
		if err != nil {
			return "", err
		}
		_, cur, err := b.readAt(ctx, RecordFile, head)
		if err != nil {
			return "", fmt.Errorf("save state %s: %w", b.Describe(), err)
		}
		if want := versionOf(base); cur != want {
			return "", fmt.Errorf("%w: %s: the record is %q, not the %q this run loaded", ErrConflict, b.Describe(), cur, want)
		}
		// Held by its record alone (the lock write's answer was lost):
		// the lock must still be ours, or this commit would free another
		// run's lock and write over the state it deploys from.
		if b.held != nil {
			_, lockSHA, err := b.readAt(ctx, LockRecordFile, head)
			if err != nil {
				return "", fmt.Errorf("save state %s: %w", b.Describe(), err)
			}
			if lockSHA != b.held.sha {
				return "", fmt.Errorf("%w: %s: our lock was taken over while this run deployed (it outlived %s)", ErrConflict, b.Describe(), b.Lock.ttl())
			}
		}
	}
	want := BlobSHA(files[RecordFile])
	// A refused ref update while the head moves is another target's write
	// landing: progress, so it does not count against the tries (with
	// sixteen targets saving at once, six tries left some unwritten);
	// failures with the head standing still do.
	for try, stuck := 0, 0; ; try++ {
		entries := make([]*github.TreeEntry, 0, len(files)+3)
		for _, name := range sortedKeys(files) {
			entries = append(entries, blobEntry(b.file(name), files[name]))
		}
		// Deleting a path needs it to exist: what exists is known from the
		// record we loaded and the lock we hold, without reading the tree.
		for _, name := range deletes {
			entries = append(entries, deleteEntry(b.file(name)))
		}
		if b.held != nil {
			entries = append(entries, deleteEntry(b.file(LockRecordFile)))
		}
		sha, resp, err := b.tryCommit(ctx, head, tree, entries, message)
		if err == nil {
			if b.held != nil {
				b.held.done = true
			}
			return sha, nil
		}
		if refusal(resp, err) {
			return "", notWritable(b.Describe(), err)
		}
		if stuck >= 6 || try >= 200 || ctx.Err() != nil {
			return "", fmt.Errorf("save state %s: %w", b.Describe(), err)
		}
		if try > 0 { // a little apart, so racing targets do not collide again
			if serr := b.Lock.sleep(ctx, time.Duration(rand.IntN(50*min(try, 10)))*time.Millisecond); serr != nil {
				return "", fmt.Errorf("save state %s: %w", b.Describe(), err)
			}
		}
		// Where is the branch now, and is our record already there?
		newHead, newTree, herr := b.head(ctx)
		if herr != nil {
			stuck++
			continue
		}
		if newHead == head {
			stuck++
		}
		cur, curSHA, rerr := b.readAt(ctx, RecordFile, newHead)
		if rerr == nil && curSHA == want {
			if b.held != nil {
				b.held.done = true
			}
			return newHead, nil
		}
		if rerr == nil && base != nil && curSHA != base.Version && cur != nil {
			return "", fmt.Errorf("%w: %s: the record was rewritten by another run (serial %s)", ErrConflict, b.Describe(), serialOf(cur))
		}
		if b.held != nil {
			_, lockSHA, lerr := b.readAt(ctx, LockRecordFile, newHead)
			if lerr == nil && lockSHA != b.held.sha {
				return "", fmt.Errorf("%w: %s: our lock was taken over while this run deployed (it outlived %s)", ErrConflict, b.Describe(), b.Lock.ttl())
			}
		}
		head, tree = newHead, newTree
	}
}

func (b *Branch) tryCommit(ctx context.Context, head, tree string, entries []*github.TreeEntry, message string) (string, *github.Response, error) {
	t, resp, err := b.GH.Git.CreateTree(ctx, b.Owner, b.Repo, tree, entries)
	if err != nil {
		return "", resp, err
	}
	c, resp, err := b.GH.Git.CreateCommit(ctx, b.Owner, b.Repo, &github.Commit{Message: github.String(message + " [skip ci]"), Tree: &github.Tree{SHA: t.SHA},
		Parents: []*github.Commit{{SHA: github.String(head)}}}, nil)
	if err != nil {
		return "", resp, err
	}
	_, resp, err = b.GH.Git.UpdateRef(ctx, b.Owner, b.Repo, &github.Reference{Ref: github.String("refs/heads/" + b.Branch), Object: &github.GitObject{SHA: c.SHA}}, false)
	if err != nil {
		return "", resp, err
	}
	return c.GetSHA(), resp, nil
}

var errNoBranch = errors.New("no such branch")

// head is the branch's commit and tree.
func (b *Branch) head(ctx context.Context) (string, string, error) {
	br, resp, err := b.GH.Repositories.GetBranch(ctx, b.Owner, b.Repo, b.Branch, 0)
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return "", "", fmt.Errorf("%w: %s", errNoBranch, b.Branch)
	}
	if err != nil {
		return "", "", fmt.Errorf("read branch %s: %w", b.Branch, err)
	}
	c := br.GetCommit()
	return c.GetSHA(), c.GetCommit().GetTree().GetSHA(), nil
}

func (b *Branch) readAt(ctx context.Context, name, ref string) ([]byte, string, error) {
	fc, _, resp, err := b.GH.Repositories.GetContents(ctx, b.Owner, b.Repo, b.file(name), &github.RepositoryContentGetOptions{Ref: ref})
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	text, _ := fc.GetContent()
	return []byte(text), fc.GetSHA(), nil
}

func versionOf(s *Snapshot) string {
	if s == nil {
		return ""
	}
	return s.Version
}

func serialOf(raw []byte) string {
	var r Record
	_ = json.Unmarshal(raw, &r)
	return fmt.Sprint(r.Serial)
}

// LoadFile is a file kept beside the state (Write.Files), as the branch
// holds it now; nil when there is none. With a Witness, only the file the
// proven record names.
func (b *Branch) LoadFile(ctx context.Context, name string) ([]byte, error) {
	return b.pinned(ctx, name, func(r *Record) string { return r.Files[name] })
}

// pinned reads a file kept beside the state and, with a Witness, checks it
// is the one the proven record names (pin gives its blob sha): another, or
// none where the record names one (removed: the evaluations baseline a
// gate compares with), is ErrUntrusted; one the record does not name is
// ignored.
func (b *Branch) pinned(ctx context.Context, name string, pin func(*Record) string) ([]byte, error) {
	raw, sha, err := b.readFile(ctx, name)
	if err != nil || b.Witness == nil {
		return raw, err
	}
	snap := b.loaded
	if snap == nil {
		if snap, err = b.Load(ctx); err != nil {
			return nil, err
		}
	}
	want := ""
	if snap.Record != nil {
		want = pin(snap.Record)
	}
	switch {
	case want == "":
		if raw != nil && b.Lock.Warn != nil {
			b.Lock.Warn("Ignored %s in %s: the state's record does not name it, so no trusted run wrote it.", name, b.Describe())
		}
		return nil, nil
	case raw == nil || sha != want:
		return nil, b.besideChanged(ctx, snap, name, want, raw == nil)
	}
	return raw, nil
}

// putBack says how to recover a file beside the state that was changed or
// removed: the record itself is proven, so adopt finds nothing to adopt;
// the file the record names is in the branch's history.
func putBack(name, want, commit, author string) string {
	by := ""
	if commit != "" {
		by = " (commit " + short(commit)
		if author != "" {
			by += " by " + author
		}
		by += ")"
	}
	return by + "; put back the " + name + " the record names (blob " + short(want) + ", in the branch's history before that change): adopt does not apply, the record itself is proven"
}

// LoadDeployedPack is the exact pack bytes last applied to the target (nil
// when none is recorded).
func (b *Branch) LoadDeployedPack(ctx context.Context) ([]byte, error) {
	if b.file(DeployedPackFile) == "" {
		return nil, nil
	}
	if b.pack != nil {
		return b.pack.raw, b.pack.err
	}
	raw, err := b.pinned(ctx, DeployedPackFile, func(r *Record) string { return r.PackSHA })
	b.pack = &packRead{raw, err}
	return raw, err
}

// packRead is the deployed pack as read once: a plan checks it, then diffs
// against it.
type packRead struct {
	raw []byte
	err error
}
