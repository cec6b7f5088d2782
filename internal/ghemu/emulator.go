// Package ghemu is a stateful GitHub emulator for tests and the demo: the
// REST endpoints the action calls, the artifact results service and its blob
// storage, authentication and permissions, fault injection and a request
// log. Every REST request and response is validated against GitHub's own
// OpenAPI description, and answers are completed from its schemas.
package ghemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

// Permission levels of a token, per scope (issues, pull_requests, contents,
// actions, metadata).
const (
	None  = ""
	Read  = "read"
	Write = "write"
)

// Token is an access token the emulator accepts.
type Token struct {
	Login string
	Perms map[string]string
}

// LoggedRequest is one request the emulator received.
type LoggedRequest struct {
	Method string
	Path   string
	Query  string
	Body   string
	Status int
	Route  string // the mux pattern that served it
	// Scope and Level are the permission the route needs ("issues|pull_requests",
	// "write"); Token is the token it was called with.
	Scope, Level, Token string
}

// Violation is a request or response that GitHub's description rejects.
type Violation struct {
	Method, Path, Kind, Message string
}

// Fault is an injected failure for a route.
type Fault struct {
	Status     int           // answer with this status (500, 502, 503, 429, 403)
	Times      int           // how many requests fail (0 = 1)
	RetryAfter string        // Retry-After header value
	Secondary  bool          // a 403 secondary rate limit message
	Primary    bool          // the primary quota is used up (X-RateLimit-Remaining: 0)
	Delay      time.Duration // wait before answering (then serve normally if Status is 0)
	Reset      bool          // close the connection without an answer (nothing was done)
	// Truncate does the work, then sends the answer's headers and part of
	// its body and closes: an answer cut off on its way back.
	Truncate   bool
	DropAnswer bool // do the work, then close without answering (a lost response)
	// Garble does the work, then sends the answer with its status and
	// headers but a body that is not what they promise (gzip bytes, as a
	// proxy that compressed it without saying so sends).
	Garble bool

	// Skip lets this many requests of the route through untouched before
	// the fault applies: the n-th call of a route, not only the next.
	Skip int

	// ResetAt is the X-RateLimit-Reset of a Primary fault; zero is a
	// minute after the emulator's clock. Clients compare it with their
	// own clock (go-github with the wall clock).
	ResetAt time.Time

	// Before runs before the request is served (then served normally if
	// nothing else is set): another client acting in between, a race.
	Before func()

	// Message replaces the error answer's message: GitHub's text is not
	// ours, and a test can make it hostile.
	Message string
}

// afterWork says whether the fault lets the request be carried out and
// spoils only its answer.
func (f *Fault) afterWork() bool { return f.DropAnswer || f.Garble || f.Truncate }

// Options configure an emulator.
type Options struct {
	// NoValidation turns the OpenAPI contract check off (the demo).
	NoValidation bool
	// CamelCaseTwirp answers the results service in camelCase, like Gitea.
	CamelCaseTwirp bool
}

// Server is a running emulator.
type Server struct {
	URL  string
	http *httptest.Server
	opts Options

	mu         sync.Mutex
	now        time.Time
	nextID     int64
	tokens     map[string]*Token
	repos      map[string]*Repo
	log        []LoggedRequest
	violations []Violation
	faults     map[string][]*Fault
	blobs      map[string]*blob
	runsByBID  map[string]*Run

	uncheckedSeen []string
	lag           deleteLag // reruns.go
}

// Default identities seeded in every emulator.
const (
	DefaultOwner = "octo-org"
	DefaultRepo  = "app"
	DefaultToken = "ghs_defaulttoken"
	BotLogin     = "github-actions[bot]"
)

// New starts an emulator with the repo octo-org/app and a token for the
// github-actions bot with the permissions of a pull request workflow. If tb
// is not nil, the server closes with the test and any contract violation
// fails it.
func New(tb testing.TB, opts ...Options) *Server {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	s := &Server{
		opts: o, now: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC), nextID: 1000,
		tokens: map[string]*Token{}, repos: map[string]*Repo{}, faults: map[string][]*Fault{},
		blobs: map[string]*blob{}, runsByBID: map[string]*Run{},
	}
	s.AddToken(DefaultToken, BotLogin, map[string]string{
		"issues": Write, "pull_requests": Write, "contents": Write, "actions": Read, "metadata": Read, "deployments": Write,
	})
	s.AddRepo(DefaultOwner, DefaultRepo)
	s.http = httptest.NewServer(s.routes())
	s.URL = s.http.URL
	if tb != nil {
		tb.Cleanup(func() {
			s.Close()
			for _, v := range s.Violations() {
				tb.Errorf("GitHub contract violation (%s %s, %s): %s", v.Method, v.Path, v.Kind, v.Message)
			}
		})
	}
	return s
}

// Close stops the server.
func (s *Server) Close() { s.http.Close() }

// Client is an HTTP client for the emulator.
func (s *Server) Client() *http.Client { return s.http.Client() }

// AddToken registers a token.
func (s *Server) AddToken(token, login string, perms map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = &Token{Login: login, Perms: perms}
}

// Now is the emulator's clock.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// Advance moves the emulator's clock (artifact expiry, signed URLs).
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = s.now.Add(d)
}

func (s *Server) id() int64 {
	s.nextID++
	return s.nextID
}

// Requests returns the request log.
func (s *Server) Requests() []LoggedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]LoggedRequest(nil), s.log...)
}

// CountRequests counts logged requests whose "METHOD path" starts with prefix.
func (s *Server) CountRequests(prefix string) int {
	n := 0
	for _, r := range s.Requests() {
		if strings.HasPrefix(r.Method+" "+r.Path, prefix) {
			n++
		}
	}
	return n
}

// ResetLog clears the request log.
func (s *Server) ResetLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}

// Violations returns the contract violations seen so far.
func (s *Server) Violations() []Violation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Violation(nil), s.violations...)
}

// TakeViolations returns and clears the violations, for tests that provoke
// one on purpose.
func (s *Server) TakeViolations() []Violation {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.violations
	s.violations = nil
	return v
}

// Inject adds a fault for a route, named as "METHOD /pattern" with the
// emulator's patterns (e.g. "POST /repos/{owner}/{repo}/issues/{issue_number}/comments").
func (s *Server) Inject(route string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times == 0 {
		f.Times = 1
	}
	s.faults[route] = append(s.faults[route], &f)
}

// ClearFaults drops every fault not yet met: the outage is over.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[string][]*Fault{}
}

// takeFault is the fault this request of route meets, if any (one per
// request: a Skip is counted down first).
func (s *Server) takeFault(route string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[route]
	if len(q) == 0 {
		return nil
	}
	f := q[0]
	if f.Skip > 0 {
		f.Skip--
		return nil
	}
	f.Times--
	if f.Times <= 0 {
		s.faults[route] = q[1:]
	}
	return f
}

// apiError is GitHub's error body.
type apiError struct {
	Message          string `json:"message"`
	DocumentationURL string `json:"documentation_url"`
	Status           string `json:"status,omitempty"`
}

// recorder buffers a response so it can be validated before it is sent.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.status = code }

// handlerFunc is a REST handler: it gets the validated request and returns
// a status and a body to complete from the schema (nil for no body).
type handlerFunc func(c *call) (int, any)

// call is one REST request being served.
type call struct {
	s      *Server
	r      *http.Request
	body   []byte
	token  *Token
	repo   *Repo
	header http.Header
	chk    *checker
}

func (c *call) decode(v any) error { return json.Unmarshal(c.body, v) }

func (c *call) fail(status int, msg string) (int, any) {
	return status, apiError{Message: msg, DocumentationURL: "https://docs.github.com/rest"}
}

// rest wraps a REST handler: fault injection, logging, authentication,
// permission checks and the OpenAPI contract check.
func (s *Server) rest(pattern, scope, level string, h handlerFunc) (string, http.Handler) {
	return pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		entry := LoggedRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: string(body), Route: pattern,
			Scope: scope, Level: level, Token: bearer(r)}
		rec := &recorder{header: http.Header{}, status: 200}
		f := s.takeFault(pattern)
		if s.inject(w, f, &entry) {
			return
		}
		if f != nil && f.afterWork() {
			sp := spoil(w, f)
			defer sp.send()
			w = sp
		}
		c := &call{s: s, r: r, body: body, header: rec.header}
		var chk *checker
		if !s.opts.NoValidation {
			var err error
			chk, err = newChecker(r)
			if err != nil {
				s.violate(r, "route", err.Error())
			} else if err := chk.request(); err != nil {
				s.violate(r, "request", firstLine(err))
				s.writeJSON(w, rec, 422, apiError{Message: "Invalid request.\n\n" + firstLine(err), DocumentationURL: "https://docs.github.com/rest"}, nil, &entry)
				return
			}
			c.chk = chk
		}
		status, out := s.authorize(c, scope, level)
		if status == 0 {
			status, out = h(c)
		}
		s.writeJSON(w, rec, status, out, chk, &entry)
	})
}

// unchecked serves a real GitHub endpoint that the OpenAPI subset lacks:
// authenticated and logged like the others, listed by Unchecked() instead
// of being validated.
func (s *Server) unchecked(pattern, scope, level string, h handlerFunc) (string, http.Handler) {
	return pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		entry := LoggedRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: string(body), Route: pattern,
			Scope: scope, Level: level, Token: bearer(r)}
		rec := &recorder{header: http.Header{}, status: 200}
		f := s.takeFault(pattern)
		if s.inject(w, f, &entry) {
			return
		}
		if f != nil && f.afterWork() {
			sp := spoil(w, f)
			defer sp.send()
			w = sp
		}
		s.mu.Lock()
		s.uncheckedSeen = append(s.uncheckedSeen, pattern)
		s.mu.Unlock()
		c := &call{s: s, r: r, body: body, header: rec.header}
		status, out := s.authorize(c, scope, level)
		if status == 0 {
			status, out = h(c)
		}
		s.writeJSON(w, rec, status, out, nil, &entry)
	})
}

// Unchecked lists requests served by routes outside the OpenAPI subset.
func (s *Server) Unchecked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.uncheckedSeen...)
}

func resetConn(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			conn.Close()
		}
	}
}

// inject applies the part of fault f that comes before the work: a
// delay, a race, or an answer instead of the work; true if it answered.
// A fault that spoils the answer is applied after the work (spoil).
func (s *Server) inject(w http.ResponseWriter, f *Fault, entry *LoggedRequest) bool {
	if f == nil {
		return false
	}
	if f.Delay > 0 {
		time.Sleep(f.Delay)
	}
	if f.Before != nil {
		f.Before()
	}
	switch {
	case f.afterWork():
		return false
	case f.Reset:
		entry.Status = -1
		s.record(*entry)
		resetConn(w)
		return true
	case f.Status != 0:
		entry.Status = f.Status
		s.record(*entry)
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		msg, doc := http.StatusText(f.Status), "https://docs.github.com/rest"
		switch {
		case f.Secondary:
			// GitHub's secondary limits leave the primary quota alone.
			msg = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
			doc = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
		case f.Primary:
			w.Header().Set("X-RateLimit-Remaining", "0")
			reset := f.ResetAt
			if reset.IsZero() {
				reset = s.Now().Add(time.Minute)
			}
			w.Header().Set("X-RateLimit-Reset", fmt.Sprint(reset.Unix()))
			msg = "API rate limit exceeded for installation."
		}
		if f.Message != "" {
			msg = f.Message
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		_ = json.NewEncoder(w).Encode(apiError{Message: msg, DocumentationURL: doc})
		return true
	}
	return false
}

// bearer is the token of a request's Authorization header.
func bearer(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(auth, "token "), "Bearer "))
}

// authorize checks the token and its permission; 0 means go on.
func (s *Server) authorize(c *call, scope, level string) (int, any) {
	auth := c.r.Header.Get("Authorization")
	tok := bearer(c.r)
	if auth == "" {
		return c.fail(401, "Requires authentication")
	}
	s.mu.Lock()
	c.token = s.tokens[tok]
	c.repo = s.repos[c.r.PathValue("owner")+"/"+c.r.PathValue("repo")]
	s.mu.Unlock()
	if c.token == nil {
		return c.fail(401, "Bad credentials")
	}
	if c.repo == nil {
		return c.fail(404, "Not Found")
	}
	if !permitted(c.token.Perms, scope, level) {
		return c.fail(403, "Resource not accessible by integration")
	}
	return 0, nil
}

func (s *Server) violate(r *http.Request, kind, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.violations = append(s.violations, Violation{Method: r.Method, Path: r.URL.Path, Kind: kind, Message: msg})
}

func (s *Server) record(e LoggedRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, e)
}

// writeJSON completes the body from the response schema, validates the
// answer and sends it.
func (s *Server) writeJSON(w http.ResponseWriter, rec *recorder, status int, out any, chk *checker, entry *LoggedRequest) {
	entry.Status = status
	s.record(*entry)
	var body []byte
	if out != nil {
		if raw, ok := out.([]byte); ok {
			body = raw
		} else {
			generic := toGeneric(out)
			if chk != nil && status < 300 {
				generic = fill(chk.responseSchema(status), generic)
			}
			body, _ = json.Marshal(generic)
			rec.header.Set("Content-Type", "application/json; charset=utf-8")
		}
	}
	if chk != nil && status < 400 && status != 302 {
		if err := chk.response(status, rec.header, body); err != nil {
			s.violate(chk.req, "response", firstLine(err))
		}
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func toGeneric(v any) any {
	if _, ok := v.(map[string]any); ok {
		return v
	}
	if _, ok := v.([]any); ok {
		return v
	}
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// GitHubClient is a go-github client for the emulator, authenticated with
// token (none if empty), as the action builds one for GITHUB_API_URL.
func (s *Server) GitHubClient(token string) *github.Client {
	c := github.NewClient(s.Client())
	if token != "" {
		c = c.WithAuthToken(token)
	}
	c, err := c.WithEnterpriseURLs(s.URL+"/", s.URL+"/")
	if err != nil {
		panic(err) // s.URL is always a valid URL
	}
	c.BaseURL.Path = "/"
	return c
}
