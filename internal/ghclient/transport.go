// Package ghclient is the one retry policy of every call the action makes to
// GitHub: the REST API, the artifact results service (Twirp) and the blob
// storage behind signed URLs. It is an http.RoundTripper, as cli/cli does
// cross-cutting HTTP concerns, so every client built on it (go-github, the
// artifact uploader, downloads) retries the same way and no caller keeps a
// loop of its own.
//
// The policy: bounded exponential backoff with jitter on 5xx (not 501), 429,
// secondary rate limits, connection errors and answers cut off or garbled
// (a body that is not the JSON, or the zip, it should be); Retry-After and
// x-ratelimit-reset honoured up to a cap; and only requests that are safe to
// repeat: GET, HEAD, OPTIONS, PUT, DELETE, PATCH (every PATCH this action
// sends sets fields to given values), POSTs whose caller marks them with
// Idempotent, and any request refused by a rate limit (it was not carried
// out). A create is never repeated blindly: its caller lists again first
// (see internal/comment).
package ghclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/arena-deploy/arena-deploy-action/internal/clock"
)

// Defaults of the policy; a zero Policy field means its default.
const (
	DefaultTries    = 5
	DefaultBase     = time.Second
	DefaultMaxDelay = 30 * time.Second
	// DefaultMaxWait is the longest Retry-After or rate-limit reset the
	// policy waits for; a longer one is answered at once, so the caller can
	// say when to retry instead of holding a runner for an hour.
	DefaultMaxWait = 60 * time.Second
	// secondaryWait is GitHub's advice for a secondary rate limit that
	// names no time: wait at least a minute.
	secondaryWait = time.Minute
)

// Policy is the retry policy. The zero value is the default policy with
// real sleeps.
type Policy struct {
	Tries    int           // attempts per request, the first included
	Base     time.Duration // first backoff; doubles per try
	MaxDelay time.Duration // cap of one backoff
	MaxWait  time.Duration // cap of a Retry-After or rate-limit reset honoured
	// AttemptTimeout bounds one attempt (connect, headers and body), so a
	// hung connection becomes a retry instead of a hung job. 0: none.
	AttemptTimeout time.Duration
	// Sleep waits (tests make it instant); it must return early with the
	// context's error when ctx is done.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock rate-limit resets are compared with.
	Now func() time.Time
	// Jitter returns a number in [0, 1); nil is math/rand.
	Jitter func() float64
	// Logf reports each retry (nil: silent).
	Logf func(format string, args ...any)
}

func (p Policy) tries() int {
	if p.Tries > 0 {
		return p.Tries
	}
	return DefaultTries
}

func (p Policy) maxWait() time.Duration {
	if p.MaxWait > 0 {
		return p.MaxWait
	}
	return DefaultMaxWait
}

func (p Policy) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p Policy) sleep(ctx context.Context, d time.Duration) error {
	return clock.Sleep(ctx, d, p.Sleep)
}

// Backoff is the jittered delay before retry n (1-based): Base·2^(n-1),
// capped at MaxDelay, then drawn from its upper half so that concurrent
// jobs do not retry in step.
func (p Policy) Backoff(n int) time.Duration {
	base, maxd := p.Base, p.MaxDelay
	if base <= 0 {
		base = DefaultBase
	}
	if maxd <= 0 {
		maxd = DefaultMaxDelay
	}
	d := base
	for i := 1; i < n && d < maxd; i++ {
		d *= 2
	}
	d = min(d, maxd)
	j := rand.Float64
	if p.Jitter != nil {
		j = p.Jitter
	}
	return d/2 + time.Duration(j()*float64(d/2))
}

// Wait sleeps the backoff before retry n, for the few retries that are not
// about one request (a name still taken after its delete).
func (p Policy) Wait(ctx context.Context, n int) error {
	return p.sleep(ctx, p.Backoff(n))
}

type idempotentKey struct{}

// Idempotent marks the requests made with ctx as safe to repeat, for POSTs
// whose effect does not add up (the results service's Twirp calls: a
// repeated create answers "already exists", which the uploader handles).
func Idempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotentKey{}, true)
}

func idempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodPatch:
		return true
	}
	v, _ := req.Context().Value(idempotentKey{}).(bool)
	return v
}

// ErrGarbled is matched when an answer arrived whole but is not what its
// headers say (JSON that does not parse, a zip that is not one): GitHub's
// fault or a proxy's, never ours. It is retried like a lost answer.
var ErrGarbled = errors.New("garbled answer")

type triesKey struct{}

// CountTries makes the requests made with ctx count their tries in *n: a
// create answered "already exists" on a second try was most likely made
// by the first, whose answer was lost.
func CountTries(ctx context.Context, n *int) context.Context {
	return context.WithValue(ctx, triesKey{}, n)
}

type expectKey struct{}

// Expect makes the requests made with ctx check their answer's body with
// check (a zip download: that it opens): an answer it refuses is garbled.
// Without it, an answer whose Content-Type says JSON must be JSON.
func Expect(ctx context.Context, check func([]byte) error) context.Context {
	return context.WithValue(ctx, expectKey{}, check)
}

// verify checks a buffered answer's body.
func verify(req *http.Request, resp *http.Response) error {
	check, _ := req.Context().Value(expectKey{}).(func([]byte) error)
	if check == nil && !isJSON(resp.Header.Get("Content-Type")) {
		return nil
	}
	b, ok := resp.Body.(interface{ Bytes() []byte })
	if !ok {
		return nil // longer than what is read ahead: its reader finds out
	}
	body := b.Bytes()
	var err error
	switch {
	case check != nil:
		err = check(body)
	case len(bytes.TrimSpace(body)) > 0 && !json.Valid(body):
		err = errors.New("the body is not the JSON its Content-Type says")
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w (HTTP %d, %d bytes): %v", req.Method, redact(req.URL), ErrGarbled, resp.StatusCode, len(body), err)
	}
	return nil
}

func isJSON(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// Transport retries requests by the policy.
type Transport struct {
	Base   http.RoundTripper // nil: http.DefaultTransport
	Policy Policy
}

// New wraps base (nil: http.DefaultTransport).
func New(base http.RoundTripper, p Policy) *Transport {
	return &Transport{Base: base, Policy: p}
}

// Client is an http.Client whose requests follow the policy. It has no
// overall timeout: Policy.AttemptTimeout bounds each attempt instead, so
// waits between attempts cannot eat the time of the last one.
func Client(base http.RoundTripper, p Policy) *http.Client {
	return &http.Client{Transport: New(base, p)}
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	p := t.Policy
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	safe := idempotent(req)
	counter, _ := req.Context().Value(triesKey{}).(*int)
	for try := 1; ; try++ {
		if counter != nil {
			*counter = try
		}
		attempt := req
		if try > 1 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			attempt = req.Clone(req.Context())
			attempt.Body = body
		}
		resp, err := t.once(attempt)
		if err == nil && resp.StatusCode < 400 {
			// Read the answer here, where a cut-off or garbled body can
			// still be asked for again; callers read whole answers anyway.
			if err = buffer(resp); err != nil {
				resp = nil
			} else if err = verify(req, resp); err != nil {
				resp.Body.Close()
				resp = nil
			}
		}
		// A rate-limited request was refused before any work was done, so
		// even a create may be sent again; anything else only if it is
		// safe to repeat.
		if !replayable || try >= p.tries() || (!safe && (err != nil || !t.isRateLimit(resp))) {
			return resp, err
		}
		wait, why, ok := t.decide(req, resp, err, try)
		if !ok {
			return resp, err
		}
		if resp != nil {
			// The answer is dropped for a retry: drain it so the
			// connection can be reused.
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
		}
		if p.Logf != nil {
			p.Logf("%s %s: %s; retry %d of %d in %s", req.Method, redact(req.URL), why, try, p.tries()-1, wait.Round(100*time.Millisecond))
		}
		if serr := p.sleep(req.Context(), wait); serr != nil {
			if err == nil {
				err = fmt.Errorf("%s %s: %s, and no time left to retry: %w", req.Method, redact(req.URL), why, serr)
			}
			return nil, err
		}
	}
}

// bufferLimit is the most of an answer read ahead; a longer one (a large
// artifact) is passed on as it streams, the first part from memory.
const bufferLimit = 16 << 20

// buffer reads resp's body (up to bufferLimit) into memory; an error means
// the answer was cut off (the body is closed).
func buffer(resp *http.Response) error {
	// A known length is read into a buffer of that size: a 9 MB blob
	// grown by doubling left as much again behind.
	size := 512
	if n := resp.ContentLength; n > 0 {
		size = int(min(n, bufferLimit)) + bytes.MinRead
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, bufferLimit+1))
	b := buf.Bytes()
	if err != nil {
		resp.Body.Close()
		return fmt.Errorf("answer cut off: %w", err)
	}
	if len(b) <= bufferLimit {
		resp.Body.Close()
		resp.Body = &buffered{bytes.NewReader(b), b}
		return nil
	}
	rest := resp.Body
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), rest), rest}
	return nil
}

// buffered is an answer read whole: its bytes can be checked.
type buffered struct {
	*bytes.Reader
	b []byte
}

func (b *buffered) Close() error  { return nil }
func (b *buffered) Bytes() []byte { return b.b }

// once makes one attempt, bounded by AttemptTimeout.
func (t *Transport) once(req *http.Request) (*http.Response, error) {
	if t.Policy.AttemptTimeout <= 0 {
		return t.base().RoundTrip(req)
	}
	ctx, cancel := context.WithTimeout(req.Context(), t.Policy.AttemptTimeout)
	resp, err := t.base().RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// decide says whether an answer is worth another try, after how long, and
// why (for the log).
func (t *Transport) decide(req *http.Request, resp *http.Response, err error, try int) (time.Duration, string, bool) {
	p := t.Policy
	if err != nil {
		if req.Context().Err() != nil || Untrusted(err) {
			return 0, "", false // cancelled, or a certificate no retry will make trusted
		}
		if errors.Is(err, ErrGarbled) {
			return p.Backoff(try), "garbled answer", true
		}
		return p.Backoff(try), "no answer (" + errorText(err) + ")", true
	}
	status := resp.StatusCode
	limited, wait, known := t.rateLimited(resp)
	switch {
	case limited:
		if !known {
			wait = secondaryWait
		}
		if wait > p.maxWait() {
			return 0, "", false // too long to hold the job: the caller says when to retry
		}
		return max(wait, p.Backoff(try)), fmt.Sprintf("rate limited (HTTP %d)", status), true
	case status == http.StatusTooManyRequests || (status >= 500 && status != http.StatusNotImplemented):
		d := p.Backoff(try)
		if ra, ok := retryAfter(resp.Header, p.now()); ok {
			if ra > p.maxWait() {
				return 0, "", false
			}
			d = max(d, ra)
		}
		return d, "HTTP " + strconv.Itoa(status), true
	}
	return 0, "", false
}

// isRateLimit reports whether resp refuses the request for a rate limit.
func (t *Transport) isRateLimit(resp *http.Response) bool {
	limited, _, _ := t.rateLimited(resp)
	return limited || resp.StatusCode == http.StatusTooManyRequests
}

// rateLimited reports whether resp is a rate limit (a 429, or a 403 that is
// a primary or secondary rate limit) and how long it asks to wait (known
// false: it did not say).
func (t *Transport) rateLimited(resp *http.Response) (limited bool, wait time.Duration, known bool) {
	status := resp.StatusCode
	if status != http.StatusForbidden && status != http.StatusTooManyRequests {
		return false, 0, false
	}
	now := t.Policy.now()
	if d, ok := retryAfter(resp.Header, now); ok {
		return true, d, true
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			// A second more: the reset is rounded down to the second.
			return true, max(time.Unix(reset, 0).Sub(now)+time.Second, 0), true
		}
		return true, 0, false
	}
	if status == http.StatusForbidden && secondaryMessage(resp) {
		return true, 0, false
	}
	return false, 0, false
}

// secondaryMessage reads (and puts back) the body of a 403 to tell a
// secondary rate limit from a permission error.
func secondaryMessage(resp *http.Response) bool {
	if resp.Body == nil {
		return false
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	rest := resp.Body
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), rest), rest}
	s := strings.ToLower(string(b))
	return strings.Contains(s, "secondary rate limit") || strings.Contains(s, "abuse detection")
}

// retryAfter parses Retry-After: seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// redact drops the query: signed blob URLs carry their signature there.
func redact(u *url.URL) string {
	c := *u
	c.RawQuery, c.User = "", nil
	return c.String()
}

func errorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// Transient reports whether err from a call through this transport may
// pass on another try: a 5xx or 429 answer, or none at all (not a
// cancellation). Callers that cannot simply repeat a request (a create)
// use it to decide whether to look again first.
func Transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		c := er.Response.StatusCode
		return c == http.StatusTooManyRequests || (c >= 500 && c != http.StatusNotImplemented)
	}
	var ue *url.Error
	return errors.As(err, &ue) && !Untrusted(err)
}

// Untrusted reports whether err is the server's certificate failing
// verification: behind a private CA (GitHub Enterprise Server with an
// internal CA, a TLS-intercepting proxy) every try fails the same way, so
// it is not retried, and the caller can say what fixes it (SSL_CERT_FILE).
func Untrusted(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		hostname x509.HostnameError
	)
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &hostname)
}
