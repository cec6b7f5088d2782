package state

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/arena-deploy/arena-deploy-action/internal/clock"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
)

// LockTTL is how long a lock record holds before another run may take it
// over: longer than any apply, short enough that a cancelled run does not
// block deploys for a day.
const LockTTL = time.Hour

// ErrNotWritable is matched when the store refuses a write: a protected
// branch, a ruleset, or a token without contents: write.
var ErrNotWritable = errors.New("the state store refused the write")

// Holder is who takes a lock: the run, for the message another run shows.
type Holder struct {
	RunID   int64  `json:"run_id"`
	Attempt int    `json:"run_attempt"`
	RunURL  string `json:"run_url,omitempty"`
	Commit  string `json:"commit,omitempty"`
	Actor   string `json:"actor,omitempty"`
	Target  string `json:"target,omitempty"`
	Started string `json:"started"`
	Expires string `json:"expires"`
	// Nonce is new for every take: the jobs of one run attempt share its
	// id and attempt, and only our own write (its answer lost) is ours.
	Nonce string `json:"nonce,omitempty"`
}

func (h *Holder) same(o *Holder) bool {
	return h.RunID == o.RunID && h.Attempt == o.Attempt && h.Target == o.Target && h.Nonce == o.Nonce
}

func (h *Holder) describe() string {
	s := fmt.Sprintf("run %d (attempt %d)", h.RunID, h.Attempt)
	if h.Actor != "" {
		s += " by " + h.Actor
	}
	if h.Commit != "" {
		s += " for " + h.Commit
	}
	if h.RunURL != "" {
		s += ", " + h.RunURL
	}
	return s + ", since " + h.Started
}

// Lease is a held lock.
type Lease interface {
	// Release frees the lock; after a save that released it, a no-op.
	Release(ctx context.Context) error
}

// Locker is a backend that locks its target across runners.
type Locker interface {
	LockTarget(ctx context.Context, h Holder, wait time.Duration) (Lease, error)
}

// LockOptions are the clock, the pause between polls and how long a lock
// holds.
type LockOptions struct {
	// TTL is how long a lock record holds before another run may take it
	// over (0: LockTTL). It must outlast the holder's longest run.
	TTL   time.Duration
	Now   func() time.Time
	Sleep func(context.Context, time.Duration) error
	Warn  func(format string, args ...any)
}

func (o *LockOptions) ttl() time.Duration {
	if o.TTL > 0 {
		return o.TTL
	}
	return LockTTL
}

func (o *LockOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *LockOptions) sleep(ctx context.Context, d time.Duration) error {
	return clock.Sleep(ctx, d, o.Sleep)
}

// pollEvery is polite: a twentieth of the wait, between 200 ms and 15 s.
func pollEvery(wait time.Duration) time.Duration {
	return min(max(wait/20, 200*time.Millisecond), 15*time.Second)
}

// contentsLock is a lock record file written with the contents API: a
// create without a blob sha fails if the file exists, which is the
// compare-and-swap; an expired record is replaced with its sha.
type contentsLock struct {
	gh          *github.Client
	owner, repo string
	branch      string
	path        string
	opts        LockOptions
	// create makes the branch with the lock in it when it does not exist.
	create func(ctx context.Context, content []byte) (*github.RepositoryContentResponse, error)
}

// heldLock is a lock this run holds: its blob sha and the commit that
// wrote it.
type heldLock struct {
	l      *contentsLock
	sha    string
	commit string
	tree   string
	// writer is who the lock's commit names as its author: the identity
	// of the token that writes the state (GitHub sets it).
	writer string
	done   bool
}

func (h *heldLock) Release(ctx context.Context) error {
	if h == nil || h.done {
		return nil
	}
	var err error
	for try := 0; try < 3; try++ {
		// A concurrent commit to the branch (another target) can refuse
		// the delete: look again, and delete only while the lock is ours.
		_, _, err = h.l.gh.Repositories.DeleteFile(ctx, h.l.owner, h.l.repo, h.l.path, &github.RepositoryContentFileOptions{
			Message: github.String("arena-deploy: release lock [skip ci]"), SHA: github.String(h.sha), Branch: github.String(h.l.branch)})
		if err == nil {
			h.done = true
			return nil
		}
		_, sha, rerr := h.l.read(ctx)
		if rerr == nil && sha != h.sha {
			h.done = true // gone, or taken over: not ours to free
			return nil
		}
	}
	return fmt.Errorf("release the deploy lock %s on %s: %w", h.l.path, h.l.branch, err)
}

// refusal says whether a failed write was refused by the store's rules or
// the token's permissions (as opposed to a conflict or an outage).
func refusal(resp *github.Response, err error) bool {
	var rl *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	if resp == nil || errors.As(err, &rl) || errors.As(err, &abuse) {
		return false // a rate limit is a wait, not a refusal
	}
	msg := ""
	var er *github.ErrorResponse
	if errors.As(err, &er) {
		msg = er.Message
	}
	switch resp.StatusCode {
	case http.StatusForbidden:
		return true
	case http.StatusConflict:
		return strings.Contains(msg, "Repository rule violations")
	case http.StatusUnprocessableEntity:
		return strings.Contains(msg, "Protected branch") || strings.Contains(msg, "rule violations")
	}
	return false
}

func notWritable(where string, err error) error {
	return fmt.Errorf("%w: %s: %v", ErrNotWritable, where, err)
}

// lock takes the lock, waiting up to wait while another run holds it.
func (l *contentsLock) lock(ctx context.Context, h Holder, wait time.Duration) (*heldLock, error) {
	deadline := l.opts.now().Add(wait)
	var waited time.Duration // the pauses, for clocks that stand still (tests)
	where := l.path + " on " + l.branch
	nonce := make([]byte, 8)
	_, _ = cryptorand.Read(nonce)
	h.Nonce = hex.EncodeToString(nonce)
	for try := 0; ; try++ {
		now := l.opts.now()
		h.Started, h.Expires = now.UTC().Format(time.RFC3339), now.Add(l.opts.ttl()).UTC().Format(time.RFC3339)
		body, _ := json.MarshalIndent(h, "", "  ")
		res, resp, err := l.gh.Repositories.CreateFile(ctx, l.owner, l.repo, l.path, &github.RepositoryContentFileOptions{
			Message: github.String("arena-deploy: lock " + h.Target + " [skip ci]"), Content: body, Branch: github.String(l.branch)})
		if err == nil {
			return l.held(res), nil
		}
		if refusal(resp, err) {
			return nil, notWritable(where, err)
		}
		if resp != nil && resp.StatusCode == http.StatusNotFound && l.create != nil {
			if res, err = l.create(ctx, body); err == nil {
				return l.held(res), nil
			}
			if errors.Is(err, ErrNotWritable) || try > 5 {
				return nil, err
			}
			continue
		}
		conflict := resp != nil && (resp.StatusCode == http.StatusUnprocessableEntity || resp.StatusCode == http.StatusConflict)
		if !conflict && try > 3 {
			return nil, fmt.Errorf("take the deploy lock %s: %w", where, err)
		}
		// Someone holds it, or our create landed and its answer was lost.
		writeErr := err
		cur, sha, err := l.read(ctx)
		if err != nil {
			return nil, err
		}
		switch {
		case cur == nil && try > 20:
			// Not a lock: a conflict that persists with no lock record
			// (an empty repository's 409, say) is the answer.
			return nil, fmt.Errorf("take the deploy lock %s: %w", where, writeErr)
		case cur == nil:
			// Released meanwhile, or another target's write moved the
			// branch under ours (GitHub's 409 "is at … but expected …"):
			// again, a little apart.
			if err := l.opts.sleep(ctx, time.Duration(rand.IntN(50*min(try+1, 10)))*time.Millisecond); err != nil {
				return nil, err
			}
			continue
		case cur.same(&h):
			return &heldLock{l: l, sha: sha}, nil
		}
		// A lock whose run has ended, or that expired, protects nothing:
		// it is taken over at once, and said.
		why := ""
		if expired(cur, l.opts.now()) {
			why = "it expired at " + cur.Expires + ", so that run died or was cancelled"
		} else if gone, reason := l.holderGone(ctx, cur, &h); gone {
			why = reason
		}
		if why != "" {
			res, resp, err := l.gh.Repositories.UpdateFile(ctx, l.owner, l.repo, l.path, &github.RepositoryContentFileOptions{
				Message: github.String("arena-deploy: take over the lock of " + h.Target + " from run " + strconv.FormatInt(cur.RunID, 10) + " [skip ci]"), Content: body,
				SHA: github.String(sha), Branch: github.String(l.branch)})
			if err == nil {
				if l.opts.Warn != nil {
					l.opts.Warn("Took over the deploy lock of %s: %s. Check what it deployed before trusting its result.", cur.describe(), why)
				}
				return l.held(res), nil
			}
			if refusal(resp, err) {
				return nil, notWritable(where, err)
			}
			continue
		}
		if waited >= wait || !l.opts.now().Before(deadline) {
			return nil, fmt.Errorf("%w: %s is held by %s (expires %s). Wait for that run or cancel it; lock-timeout waits for it, and a concurrency group per environment queues deploys instead",
				deploy.ErrLocked, where, cur.describe(), cur.Expires)
		}
		if err := l.opts.sleep(ctx, pollEvery(wait)); err != nil {
			return nil, err
		}
		waited += pollEvery(wait)
	}
}

func expired(h *Holder, now time.Time) bool {
	t, err := time.Parse(time.RFC3339, h.Expires)
	return err != nil || !now.Before(t)
}

func (l *contentsLock) held(res *github.RepositoryContentResponse) *heldLock {
	h := &heldLock{l: l, sha: res.GetContent().GetSHA(), commit: res.Commit.GetSHA(), writer: res.Commit.GetAuthor().GetName()}
	if res.Commit.Tree != nil {
		h.tree = res.Commit.Tree.GetSHA()
	}
	return h
}

// read is the current lock record (nil: none) and its blob sha.
func (l *contentsLock) read(ctx context.Context) (*Holder, string, error) {
	fc, _, resp, err := l.gh.Repositories.GetContents(ctx, l.owner, l.repo, l.path, &github.RepositoryContentGetOptions{Ref: l.branch})
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read the deploy lock %s: %w", l.path, err)
	}
	text, err := fc.GetContent()
	if err != nil {
		return nil, "", err
	}
	var h Holder
	if err := json.Unmarshal([]byte(text), &h); err != nil {
		// A damaged record is treated as expired: it can hold nothing.
		return &Holder{Expires: "damaged"}, fc.GetSHA(), nil
	}
	return &h, fc.GetSHA(), nil
}
