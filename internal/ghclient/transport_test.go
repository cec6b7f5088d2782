package ghclient_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/arena-deploy/arena-deploy-action/internal/ghclient"
	"github.com/arena-deploy/arena-deploy-action/internal/ghemu"
)

// sleeps records the waits of a policy instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

func client(t *testing.T, s *ghemu.Server, p ghclient.Policy) *github.Client {
	t.Helper()
	gh, err := ghclient.GitHub(ghclient.Client(s.Client().Transport, p), s.URL, ghemu.DefaultToken)
	if err != nil {
		t.Fatal(err)
	}
	return gh
}

// policy is the default policy with the emulator's clock, no jitter (the
// upper half of each backoff) and recorded sleeps.
func policy(s *ghemu.Server, z *sleeps) ghclient.Policy {
	return ghclient.Policy{Sleep: z.sleep, Now: s.Now, Jitter: func() float64 { return 1 }}
}

const commentsRoute = "GET /repos/{owner}/{repo}/issues/{issue_number}/comments"

func TestRetryPolicy(t *testing.T) {
	cases := []struct {
		name  string
		route string
		fault func(s *ghemu.Server) ghemu.Fault
		call  func(ctx context.Context, gh *github.Client, pr int) error
		// tries is how many requests reach the route; waits the sleeps.
		tries int
		waits []time.Duration
		fails bool
	}{
		{name: "502 twice then ok", fault: f(ghemu.Fault{Status: 502, Times: 2}), tries: 3, waits: []time.Duration{time.Second, 2 * time.Second}},
		{name: "500, 503, 504 then ok", fault: f(ghemu.Fault{Status: 503, Times: 3}), tries: 4, waits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
		{name: "lasting 5xx gives up after 5 tries", fault: f(ghemu.Fault{Status: 502, Times: 9}), tries: 5, fails: true,
			waits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}},
		{name: "429 with Retry-After", fault: f(ghemu.Fault{Status: 429, RetryAfter: "7"}), tries: 2, waits: []time.Duration{7 * time.Second}},
		{name: "secondary rate limit with Retry-After", fault: f(ghemu.Fault{Status: 403, Secondary: true, RetryAfter: "3"}), tries: 2, waits: []time.Duration{3 * time.Second}},
		{name: "secondary rate limit without a time waits a minute", fault: f(ghemu.Fault{Status: 403, Secondary: true}), tries: 2, waits: []time.Duration{time.Minute}},
		{name: "primary rate limit waits for x-ratelimit-reset", fault: func(s *ghemu.Server) ghemu.Fault {
			return ghemu.Fault{Status: 403, Primary: true, ResetAt: s.Now().Add(30 * time.Second)}
		}, tries: 2, waits: []time.Duration{31 * time.Second}},
		{name: "primary rate limit beyond the cap is answered at once", fault: func(s *ghemu.Server) ghemu.Fault {
			return ghemu.Fault{Status: 403, Primary: true, ResetAt: s.Now().Add(time.Hour)}
		}, tries: 1, fails: true},
		{name: "Retry-After beyond the cap is answered at once", fault: f(ghemu.Fault{Status: 429, RetryAfter: "3600"}), tries: 1, fails: true},
		{name: "a permission error is not retried", fault: f(ghemu.Fault{Status: 403}), tries: 1, fails: true},
		{name: "501 is not retried", fault: f(ghemu.Fault{Status: 501}), tries: 1, fails: true},
		{name: "404 is not retried", fault: f(ghemu.Fault{Status: 404}), tries: 1, fails: true},
		{name: "connection reset", fault: f(ghemu.Fault{Reset: true, Times: 2}), tries: 3, waits: []time.Duration{time.Second, 2 * time.Second}},
		{name: "an answer cut off is asked again", fault: f(ghemu.Fault{Truncate: true}), tries: 2, waits: []time.Duration{time.Second}},
		{name: "a garbled answer is asked again", fault: f(ghemu.Fault{Garble: true}), tries: 2, waits: []time.Duration{time.Second}},
		{name: "a lasting garbled answer fails as GitHub's", fault: f(ghemu.Fault{Garble: true, Times: 9}), tries: 5, fails: true,
			waits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second},
			call: func(ctx context.Context, gh *github.Client, pr int) error {
				_, _, err := gh.Issues.ListComments(ctx, ghemu.DefaultOwner, ghemu.DefaultRepo, pr, nil)
				if !errors.Is(err, ghclient.ErrGarbled) || !ghclient.Transient(err) {
					return errors.New("not ErrGarbled: " + err.Error())
				}
				return err
			}},
		{name: "a garbled create answer is not repeated, and is no answer", route: "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
			fault: f(ghemu.Fault{Garble: true}), tries: 1, fails: true,
			call: func(ctx context.Context, gh *github.Client, pr int) error {
				_, _, err := gh.Issues.CreateComment(ctx, ghemu.DefaultOwner, ghemu.DefaultRepo, pr, &github.IssueComment{Body: github.String("x")})
				if !errors.Is(err, ghclient.ErrGarbled) || !ghclient.Transient(err) {
					return errors.New("not ErrGarbled: " + err.Error())
				}
				return err
			}},
		{name: "a create (POST) is never repeated", route: "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
			fault: f(ghemu.Fault{Status: 502}), tries: 1, fails: true,
			call: func(ctx context.Context, gh *github.Client, pr int) error {
				_, _, err := gh.Issues.CreateComment(ctx, ghemu.DefaultOwner, ghemu.DefaultRepo, pr, &github.IssueComment{Body: github.String("x")})
				return err
			}},
		{name: "a lost create answer is not repeated either", route: "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
			fault: f(ghemu.Fault{DropAnswer: true}), tries: 1, fails: true,
			call: func(ctx context.Context, gh *github.Client, pr int) error {
				_, _, err := gh.Issues.CreateComment(ctx, ghemu.DefaultOwner, ghemu.DefaultRepo, pr, &github.IssueComment{Body: github.String("x")})
				return err
			}},
		{name: "a rate-limited create was refused, so it is sent again", route: "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
			fault: f(ghemu.Fault{Status: 403, Secondary: true, RetryAfter: "3"}), tries: 2, waits: []time.Duration{3 * time.Second},
			call: func(ctx context.Context, gh *github.Client, pr int) error {
				_, _, err := gh.Issues.CreateComment(ctx, ghemu.DefaultOwner, ghemu.DefaultRepo, pr, &github.IssueComment{Body: github.String("x")})
				return err
			}},
		{name: "a POST marked idempotent is", route: "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
			fault: f(ghemu.Fault{Status: 502}), tries: 2, waits: []time.Duration{time.Second},
			call: func(ctx context.Context, gh *github.Client, pr int) error {
				_, _, err := gh.Issues.CreateComment(ghclient.Idempotent(ctx), ghemu.DefaultOwner, ghemu.DefaultRepo, pr, &github.IssueComment{Body: github.String("x")})
				return err
			}},
		{name: "an edit (PATCH) is retried with its body", route: "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}",
			fault: f(ghemu.Fault{Status: 500}), tries: 2, waits: []time.Duration{time.Second},
			call: func(ctx context.Context, gh *github.Client, pr int) error {
				c, _, err := gh.Issues.ListComments(ctx, ghemu.DefaultOwner, ghemu.DefaultRepo, pr, nil)
				if err != nil {
					return err
				}
				e, _, err := gh.Issues.EditComment(ctx, ghemu.DefaultOwner, ghemu.DefaultRepo, c[0].GetID(), &github.IssueComment{Body: github.String("edited")})
				if err == nil && e.GetBody() != "edited" {
					return errors.New("body lost on retry: " + e.GetBody())
				}
				return err
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := ghemu.New(t)
			pr := s.AddPull(ghemu.Pull{HeadSHA: "aaa"})
			s.AddComment(pr.Number, ghemu.BotLogin, "hello")
			route := tc.route
			if route == "" {
				route = commentsRoute
			}
			s.Inject(route, tc.fault(s))
			var z sleeps
			gh := client(t, s, policy(s, &z))
			call := tc.call
			if call == nil {
				call = func(ctx context.Context, gh *github.Client, pr int) error {
					_, _, err := gh.Issues.ListComments(ctx, ghemu.DefaultOwner, ghemu.DefaultRepo, pr, nil)
					return err
				}
			}
			err := call(context.Background(), gh, pr.Number)
			if (err != nil) != tc.fails {
				t.Fatalf("err = %v, want failure %v", err, tc.fails)
			}
			if got := countRoute(s, route); got != tc.tries {
				t.Errorf("%d requests reached %s, want %d", got, route, tc.tries)
			}
			if got := z.all(); !equal(got, tc.waits) {
				t.Errorf("waits %v, want %v", got, tc.waits)
			}
		})
	}
}

func f(x ghemu.Fault) func(*ghemu.Server) ghemu.Fault {
	return func(*ghemu.Server) ghemu.Fault { return x }
}

func countRoute(s *ghemu.Server, route string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Route == route {
			n++
		}
	}
	return n
}

func equal(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBackoffIsBoundedAndJittered(t *testing.T) {
	p := ghclient.Policy{Jitter: func() float64 { return 0 }}
	if d := p.Backoff(1); d != 500*time.Millisecond {
		t.Errorf("first backoff, least jitter: %s", d)
	}
	p.Jitter = func() float64 { return 0.999999 }
	for n := 1; n < 40; n++ {
		if d := p.Backoff(n); d > ghclient.DefaultMaxDelay {
			t.Fatalf("backoff %d is %s, over the cap", n, d)
		}
	}
	p.Jitter = nil
	seen := map[time.Duration]bool{}
	for range 20 {
		seen[p.Backoff(3)] = true
	}
	if len(seen) < 2 {
		t.Error("no jitter: concurrent jobs would retry in step")
	}
}

// TestCancelledDuringWait: a cancellation ends the wait at once, with the
// context's error, and no further request is made.
func TestCancelledDuringWait(t *testing.T) {
	s := ghemu.New(t)
	pr := s.AddPull(ghemu.Pull{HeadSHA: "aaa"})
	s.Inject(commentsRoute, ghemu.Fault{Status: 503, Times: 5})
	ctx, cancel := context.WithCancel(context.Background())
	gh := client(t, s, ghclient.Policy{Sleep: func(ctx context.Context, _ time.Duration) error { cancel(); return ctx.Err() }})
	_, _, err := gh.Issues.ListComments(ctx, ghemu.DefaultOwner, ghemu.DefaultRepo, pr.Number, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if n := countRoute(s, commentsRoute); n != 1 {
		t.Errorf("%d requests after the cancellation", n-1)
	}
}

// TestRealSleepHonoursRetryAfter: without an injected clock the policy
// really waits (a short Retry-After keeps the test fast).
func TestRealSleepHonoursRetryAfter(t *testing.T) {
	s := ghemu.New(t)
	pr := s.AddPull(ghemu.Pull{HeadSHA: "aaa"})
	s.Inject(commentsRoute, ghemu.Fault{Status: 429, RetryAfter: "1"})
	start := time.Now()
	_, _, err := client(t, s, ghclient.Policy{Base: time.Millisecond}).Issues.ListComments(context.Background(), ghemu.DefaultOwner, ghemu.DefaultRepo, pr.Number, nil)
	if err != nil || time.Since(start) < time.Second {
		t.Fatalf("err %v after %s", err, time.Since(start))
	}
}

// TestAttemptTimeout: a hung answer becomes a retry, not a hung job.
func TestAttemptTimeout(t *testing.T) {
	s := ghemu.New(t)
	pr := s.AddPull(ghemu.Pull{HeadSHA: "aaa"})
	var z sleeps
	p := policy(s, &z)
	// Warm up first: the emulator reads GitHub's description on its first
	// request, slower than the attempt's time on a loaded machine.
	if _, _, err := client(t, s, p).Issues.ListComments(context.Background(), ghemu.DefaultOwner, ghemu.DefaultRepo, pr.Number, nil); err != nil {
		t.Fatal(err)
	}
	s.Inject(commentsRoute, ghemu.Fault{Delay: 2 * time.Second})
	p.AttemptTimeout = 500 * time.Millisecond
	_, _, err := client(t, s, p).Issues.ListComments(context.Background(), ghemu.DefaultOwner, ghemu.DefaultRepo, pr.Number, nil)
	if err != nil || len(z.all()) != 1 {
		t.Fatalf("err %v, waits %v", err, z.all())
	}
}

// TestLogNamesNoSecret: the retry log names the call without its query
// (signed blob URLs carry their signature there).
func TestLogNamesNoSecret(t *testing.T) {
	s := ghemu.New(t)
	p := ghclient.Policy{Sleep: func(context.Context, time.Duration) error { return nil }}
	s.Inject("GET /_blob/download/{key}", ghemu.Fault{Status: 503})
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/_blob/download/k?sig=SECRET&se=1", nil)
	var logged strings.Builder
	p.Logf = func(format string, args ...any) {
		for _, a := range args {
			if s, ok := a.(string); ok {
				logged.WriteString(s)
			}
		}
	}
	resp, err := ghclient.Client(s.Client().Transport, p).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.Contains(logged.String(), "/_blob/download/k") || strings.Contains(logged.String(), "SECRET") {
		t.Errorf("log: %q", logged.String())
	}
}

// TestUntrustedCertificateIsNotRetried: a server whose certificate no root
// trusts fails the same way on every try (a private CA without
// SSL_CERT_FILE), so the call fails at once and says why.
func TestUntrustedCertificateIsNotRetried(t *testing.T) {
	var tries atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { tries.Add(1) }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	var z sleeps
	// The system's roots (not the test server's CA), as in the action.
	c := ghclient.Client(&http.Transport{}, ghclient.Policy{Sleep: z.sleep})
	resp, err := c.Get(srv.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatal("an untrusted certificate was accepted")
	}
	if !ghclient.Untrusted(err) || ghclient.Transient(err) {
		t.Errorf("Untrusted %v, Transient %v for %v", ghclient.Untrusted(err), ghclient.Transient(err), err)
	}
	if len(z.all()) != 0 || tries.Load() != 0 {
		t.Errorf("retried %d times (waits %v), reached the handler %d times", len(z.all()), z.all(), tries.Load())
	}
	// A refused connection is still worth another try.
	if !ghclient.Transient(&url.Error{Op: "Get", URL: srv.URL, Err: errors.New("connection refused")}) {
		t.Error("a refused connection is no longer transient")
	}
}

// TestExpectedBody: an answer the caller's check refuses (a zip that is
// not one) is asked again like a garbled one; the check sees every byte.
func TestExpectedBody(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			_, _ = w.Write([]byte("\x1f\x8bnot a zip"))
			return
		}
		_, _ = w.Write([]byte("PK good"))
	}))
	defer srv.Close()
	var z sleeps
	hc := ghclient.Client(nil, ghclient.Policy{Sleep: z.sleep})
	ctx := ghclient.Expect(context.Background(), func(b []byte) error {
		if !strings.HasPrefix(string(b), "PK") {
			return errors.New("not a zip")
		}
		return nil
	})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "PK good" || n.Load() != 2 || len(z.all()) != 1 {
		t.Fatalf("got %q after %d requests, %d waits", b, n.Load(), len(z.all()))
	}
}
