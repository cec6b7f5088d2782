package state

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/go-github/v60/github"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
)

// Past is a record the target's store held once: what a rollback can go
// back to.
type Past struct {
	// Commit is the state branch's commit that wrote the record.
	Commit string
	// RecordSHA is the record's git blob id (what its witness names).
	RecordSHA string
	Record    *Record
	State     *deploy.State // nil: the record held no state (a destroy)
	// Proven says a trusted run's witness names this record; a record the
	// history holds but no trusted run wrote (someone who may push wrote
	// it) is listed unproven, never restored.
	Proven bool
}

// HistoryReader lists a target's past records, newest first.
type HistoryReader interface {
	History(ctx context.Context, n int) ([]Past, error)
}

// History lists the last n records the target's folder held, newest
// first: each commit of the state branch that changed its record.json,
// with that record, proven or not by its own witness. It costs one commit
// listing and one read per record (n at most).
func (b *Branch) History(ctx context.Context, n int) ([]Past, error) {
	commits, _, err := b.GH.Repositories.ListCommits(ctx, b.Owner, b.Repo, &github.CommitsListOptions{
		SHA: b.Branch, Path: b.file(RecordFile), ListOptions: github.ListOptions{PerPage: n}})
	if err != nil {
		return nil, fmt.Errorf("list the history of %s: %w", b.Describe(), err)
	}
	var out []Past
	for _, c := range commits {
		raw, sha, err := b.readAt(ctx, RecordFile, c.GetSHA())
		if err != nil {
			return nil, fmt.Errorf("read %s at %s: %w", b.file(RecordFile), short(c.GetSHA()), err)
		}
		if raw == nil {
			continue // the commit removed it
		}
		var rec Record
		if err := json.Unmarshal(raw, &rec); err != nil {
			continue // not a record any run of ours wrote
		}
		p := Past{Commit: c.GetSHA(), RecordSHA: sha, Record: &rec}
		if rec.State != "" {
			if st, err := decode([]byte(rec.State), b.Describe(), b.Env); err == nil {
				p.State = st
			}
		}
		if b.Witness != nil {
			if p.Proven, err = b.Witness.Vouched(ctx, b.Describe(), sha, rec.RunID); err != nil {
				return nil, err
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// Vouched says whether a witness of a trusted run names record (its blob
// sha) in store: any of the target's witnesses, the newest or an older one
// (a rollback proves a past record, not the current one), or one among
// the artifacts of run, the run the record names. The witnesses are listed
// once per Witness, whatever the number of records asked about.
func (w *Witness) Vouched(ctx context.Context, store, record string, run int64) (bool, error) {
	want, err := witnessDigest(store, record)
	if err != nil {
		return false, err
	}
	if w.listed == nil {
		list, err := w.Finder.List(ctx, w.Name)
		if err != nil {
			return false, fmt.Errorf("list the state's witnesses: %w", err)
		}
		w.listed = list
	}
	if match, err := w.firstProving(ctx, w.listed, want); match != nil || err != nil {
		return match != nil, err
	}
	if run == 0 {
		return false, nil
	}
	match, err := w.ofRun(ctx, run, want)
	return match != nil, err
}

// FilesAt reads the files a past record kept beside its state (the
// evaluations baseline), as they were at that write, each checked against
// the blob id the record names: a rollback restores them with the pack.
func (b *Branch) FilesAt(ctx context.Context, p Past) (map[string][]byte, error) {
	out := map[string][]byte{}
	for name, want := range p.Record.Files {
		raw, sha, err := b.readAt(ctx, name, p.Commit)
		if err != nil {
			return nil, fmt.Errorf("read %s at %s: %w", b.file(name), short(p.Commit), err)
		}
		if raw == nil || sha != want {
			return nil, fmt.Errorf("%w: %s at %s is not the file its record names (blob %s)", ErrUntrusted, b.file(name), short(p.Commit), short(want))
		}
		out[name] = raw
	}
	return out, nil
}
