// Package mask keeps secrets out of everything the action shows or stores:
// it finds secret values in a deploy config and in the adapter's
// environment, replaces them with a fingerprint in anything uploaded or
// posted, and scrubs them from text.
package mask

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// secretWords mark a key (or an environment variable's name) as secret,
// case-insensitively, anywhere in it: api_token, clientSecret,
// DB_PASSWORD, signing_key, Authorization, db_dsn, tls_cert, session_id.
// Over-matching (author, monkey) only redacts a harmless value; missing a
// word leaks one.
var secretWords = []string{
	"token", "secret", "password", "passwd", "pwd", "key", "credential",
	"auth", "bearer", "dsn", "cert", "private", "session", "cookie", "signature",
}

// minSecretLen keeps very short values (e.g. "1", "eu") out of the
// text scrubber, where replacing them would garble every message.
const minSecretLen = 4

// minGuessedLen is the shortest value taken as a secret only because its
// variable's name looks secret (AUTH_ENABLED=true is not a secret; a
// value named in mask-env is taken at minSecretLen).
const minGuessedLen = 8

// IsSecretKey reports whether a config key names a secret.
func IsSecretKey(k string) bool {
	lk := strings.ToLower(k)
	// "author" is no credential, and too common (GIT_AUTHOR_NAME) to mask;
	// "authorization" is one.
	if !strings.Contains(lk, "authori") {
		lk = strings.ReplaceAll(lk, "author", "")
	}
	for _, w := range secretWords {
		if strings.Contains(lk, w) {
			return true
		}
	}
	return false
}

// Fingerprint is what replaces a secret value: stable, so a changed secret
// changes the plan id and config-changed check, but not reversible.
func Fingerprint(v string) string {
	sum := sha256.Sum256([]byte("arena-deploy-action/mask/v1\x00" + v))
	return "redacted:sha256:" + hex.EncodeToString(sum[:8])
}

// userinfo finds URL credentials anywhere in a string:
// scheme://user:password@host or scheme://token@host.
var userinfo = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://([^/?#\s@]+)@`)

// tokenShapes are credentials recognisable by their shape alone, wherever
// they are and whatever key holds them: provider API keys and tokens of
// well-known formats, JWTs, PEM private keys, and an Authorization value
// (Bearer/Basic/token and the credential). Each is looked for only in text
// holding its literal start (hints; fold: in any case): Go's regular
// expressions take a second over a megabyte of prompts, strings.Contains
// a millisecond.
var tokenShapes = []struct {
	hints []string
	fold  bool
	re    *regexp.Regexp
}{
	{[]string{"-----BEGIN "}, false, regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----`)},
	{[]string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}, false, regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{30,}`)},
	{[]string{"github_pat_"}, false, regexp.MustCompile(`\bgithub_pat_[A-Za-z0-9_]{22,}`)},
	{[]string{"sk-"}, false, regexp.MustCompile(`\bsk-(?:ant-|proj-|live-|test-)?[A-Za-z0-9_-]{16,}`)},
	{[]string{"k_live_", "k_test_"}, false, regexp.MustCompile(`\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}`)},
	{[]string{"AKIA", "ASIA"}, false, regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{[]string{"xox"}, false, regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]{10,}`)},
	{[]string{"AIza"}, false, regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}`)},
	{[]string{"eyJ"}, false, regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)},
	{[]string{"bearer ", "basic ", "token "}, true, regexp.MustCompile(`(?i:\b(?:bearer|basic|token)\s+)[A-Za-z0-9._~+/=-]{8,}`)},
}

// shaped returns the substrings of s that have a credential's shape.
func shaped(s string) []string {
	var out []string
	lower := ""
	for _, sh := range tokenShapes {
		in := s
		if sh.fold {
			if lower == "" {
				lower = strings.ToLower(s)
			}
			in = lower
		}
		for _, h := range sh.hints {
			if strings.Contains(in, h) {
				out = append(out, sh.re.FindAllString(s, -1)...)
				break
			}
		}
	}
	return out
}

// credentials returns the secrets s holds by their shape: the URL user
// info (whole, and the password, or the user for a token@host URL), and
// tokens of the well-known formats of tokenShapes.
func credentials(s string) []string {
	out := shaped(s)
	if !strings.Contains(s, "://") || !strings.Contains(s, "@") {
		return out // no URL with user info: the regular expression is slow
	}
	for _, m := range userinfo.FindAllStringSubmatch(s, -1) {
		info := m[1]
		out = append(out, info)
		if u, p, ok := strings.Cut(info, ":"); ok {
			out = append(out, p)
			if dec, err := url.PathUnescape(p); err == nil && dec != p {
				out = append(out, dec)
			}
		} else {
			out = append(out, u)
		}
	}
	return out
}

// headerNameKeys are the keys naming a header (or a variable) in a
// {name: ..., value: ...} pair, as in headers: [{name: Authorization,
// value: Bearer ...}]: the value is secret when the name looks secret.
var headerNameKeys = []string{"name", "key", "header"}

func pairedValueIsSecret(m map[string]any) bool {
	for _, k := range headerNameKeys {
		if n, ok := m[k].(string); ok && IsSecretKey(n) {
			return true
		}
	}
	return false
}

// Credentials returns the secrets of v (decoded JSON or YAML) known by
// their shape or their pair alone, never by the key that holds them: URL
// credentials, tokens of well-known formats, and the value of a
// name/value pair whose name looks secret. It is for content whose keys
// are the user's words (a prompt's variables, a tool's parameters, ids
// such as password-reset), where a secret-looking word is no credential.
func Credentials(v any) []string {
	var found []string
	var walk func(v any, secret bool)
	walk = func(v any, secret bool) {
		switch t := v.(type) {
		case map[string]any:
			paired := pairedValueIsSecret(t)
			for k, val := range t {
				walk(val, secret || paired && k == "value")
			}
		case []any:
			for _, val := range t {
				walk(val, secret)
			}
		case string:
			if secret {
				found = append(found, t)
			}
			found = append(found, credentials(t)...)
		}
	}
	walk(v, false)
	return found
}

// Redact returns a deep copy of v (decoded JSON or YAML) in which secrets
// are replaced by their fingerprint, and the secret strings found (for the
// masker: strings, and numbers of 8 digits or more). A value
// is secret when it is under a secret-looking key, is the value of a
// name/value pair whose name looks secret, holds URL credentials, or holds
// a value found secret elsewhere in v: redaction follows the value, so a
// YAML alias (or a copy) of a token under a plain key is redacted too.
func Redact(v any) (any, []string) {
	var found []string
	collect(v, false, &found)
	known := usable(found)
	return redact(v, false, known), found
}

// collect finds the secret values of v.
func collect(v any, secret bool, found *[]string) {
	switch t := v.(type) {
	case map[string]any:
		paired := pairedValueIsSecret(t)
		for k, val := range t {
			collect(val, secret || IsSecretKey(k) || (paired && k == "value"), found)
		}
	case []any:
		for _, val := range t {
			collect(val, secret, found)
		}
	case nil:
	case bool:
		// Redacted where it stands, but never looked for in text: "true"
		// is everywhere.
	case string:
		if secret {
			*found = append(*found, t)
		}
		*found = append(*found, credentials(t)...)
	default:
		// A number under a secret key is redacted where it stands; looked
		// for in text only when long enough to be a secret, or a
		// session_ttl of 3600 would mask every checksum holding 3600.
		if s := scalar(v); secret && len(s) >= minGuessedLen {
			*found = append(*found, s)
		}
	}
}

func redact(v any, secret bool, known []string) any {
	switch t := v.(type) {
	case map[string]any:
		paired := pairedValueIsSecret(t)
		out := make(map[string]any, len(t))
		for k, val := range t {
			out[k] = redact(val, secret || IsSecretKey(k) || (paired && k == "value"), known)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, val := range t {
			out[i] = redact(val, secret, known)
		}
		return out
	case nil:
		return nil
	}
	s := scalar(v)
	if secret || containsAny(s, known) {
		return Fingerprint(s)
	}
	return v
}

// usable are the values long enough to look for inside other values.
func usable(secrets []string) []string {
	var out []string
	for _, s := range secrets {
		if len(s) >= minSecretLen {
			out = append(out, s)
		}
	}
	return out
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func scalar(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// RedactJSON redacts a JSON document given as a string; a document that is
// not JSON is replaced whole by its fingerprint, as it cannot be inspected.
func RedactJSON(doc string) (string, []string) {
	if doc == "" {
		return "", nil
	}
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return Fingerprint(doc), []string{doc}
	}
	out, found := Redact(v)
	b, _ := json.Marshal(out)
	return string(b), found
}

// plainEnv are variables whose names look secret but whose values are
// not, and are printed everywhere: masking the working directory (PWD)
// would garble every path.
var plainEnv = map[string]bool{"PWD": true, "OLDPWD": true, "SSH_AUTH_SOCK": true}

// pathSuffixes name variables that hold a path (SSL_CERT_FILE,
// GOOGLE_CREDENTIALS_PATH, KUBECONFIG_DIR): the file may hold a secret, its
// path is not one, and masking it garbles every message that names it.
var pathSuffixes = []string{"_FILE", "_PATH", "_DIR", "_DIRECTORY"}

// pathValue is a value shaped like a path: absolute (/, ~/, C:\), dot
// relative (./, ../), or relative folders ending in a file with an
// extension (certs/ca.pem); no spaces, no URL, no user info.
var pathValue = regexp.MustCompile(`^(?:(?:~|\.{1,2})?/[^\s]*|[A-Za-z]:[\\/][^\s]*|\.{1,2}[\\/][^\s]*|(?:[\w.-]+/)+[\w-]+\.[A-Za-z0-9]{1,8})$`)

// isPathVariable says whether the variable k=v names a file or a
// directory: a name ending in _FILE, _PATH or _DIR, and a value shaped
// like a path.
func isPathVariable(k, v string) bool {
	upper := strings.ToUpper(k)
	for _, suf := range pathSuffixes {
		if strings.HasSuffix(upper, suf) {
			return !strings.Contains(v, "://") && pathValue.MatchString(v)
		}
	}
	return false
}

// EnvSecrets returns the values of environ ("NAME=value") that are
// secrets: those of the variables named in listed (the mask-env input),
// and those of variables whose names look secret, when long enough to be
// one, and are not paths (SSL_CERT_FILE=/etc/ssl/ca.pem).
func EnvSecrets(environ []string, listed []string) []string {
	named := make(map[string]bool, len(listed))
	for _, n := range listed {
		named[n] = true
	}
	var out []string
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case plainEnv[k] && !named[k]:
		case named[k] && len(v) >= minSecretLen:
			out = append(out, v)
		case IsSecretKey(k) && len(v) >= minGuessedLen && !isPathVariable(k, v):
			out = append(out, v)
		}
	}
	return out
}

// Masker scrubs known secret values from text: each value, each line of a
// multi-line value, and the forms they take when encoded (JSON string,
// URL query, and any added with AddForm, such as Markdown escaping).
type Masker struct {
	mu      sync.RWMutex // the adapter's stderr is masked while secrets are added
	values  []string     // as registered
	secrets []string     // every form, longest first
	probes  []string     // distinct prefixes of the forms: a cheap first look
	forms   []func(string) string
	repl    *strings.Replacer
}

// NewMasker scrubs the given values.
func NewMasker(secrets ...string) *Masker {
	m := &Masker{}
	m.Add(secrets...)
	return m
}

// Add registers more secret values.
func (m *Masker) Add(secrets ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range secrets {
		if len(s) < minSecretLen {
			continue
		}
		m.values = append(m.values, s)
		// A multi-line secret (a PEM key) echoed line by line must not
		// slip through: each line is a secret of its own.
		if strings.ContainsAny(s, "\r\n") {
			for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
				if line = strings.TrimSpace(line); len(line) >= minSecretLen {
					m.values = append(m.values, line)
				}
			}
		}
		// "Bearer <token>", "Basic <creds>": the credential alone is
		// what an adapter is likely to echo. (Only for two words: the
		// words of a longer text are not secrets each.)
		if fields := strings.Fields(s); len(fields) == 2 && len(fields[1]) >= minGuessedLen {
			m.values = append(m.values, fields[1])
		}
	}
	m.rebuild()
}

// AddForm registers an encoding secrets may appear in (e.g. the Markdown
// escaping of a report), so the encoded form is scrubbed too.
func (m *Masker) AddForm(f func(string) string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forms = append(m.forms, f)
	m.rebuild()
}

func (m *Masker) rebuild() {
	seen := map[string]bool{}
	m.secrets = m.secrets[:0]
	add := func(s string) {
		if len(s) >= minSecretLen && !seen[s] {
			seen[s] = true
			m.secrets = append(m.secrets, s)
		}
	}
	for _, s := range m.values {
		add(s)
		esc, _ := json.Marshal(s)
		add(string(esc[1 : len(esc)-1]))
		add(url.QueryEscape(s))
		for _, f := range m.forms {
			add(f(s))
		}
	}
	// Longest first, so a secret that contains another is replaced whole.
	sort.SliceStable(m.secrets, func(i, j int) bool { return len(m.secrets[i]) > len(m.secrets[j]) })
	pairs := make([]string, 0, 2*len(m.secrets))
	for _, s := range m.secrets {
		pairs = append(pairs, s, "***")
	}
	m.repl = strings.NewReplacer(pairs...)
	// The forms of one secret mostly share their first bytes (a JSON or
	// URL escape comes later, if at all): one probe each, not one per form.
	probes := map[string]bool{}
	m.probes = m.probes[:0]
	for _, f := range m.secrets {
		p := f[:min(len(f), probeLen)]
		if !probes[p] {
			probes[p] = true
			m.probes = append(m.probes, p)
		}
	}
}

// probeLen is the length of the prefixes looked for first.
const probeLen = 12

// Secrets returns the registered values and the lines of multi-line ones
// (for ::add-mask::).
func (m *Masker) Secrets() []string {
	if m == nil {
		return nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return append([]string(nil), m.values...)
}

// snapshot is the replacer, the forms it replaces and their probes, read
// together.
func (m *Masker) snapshot() (*strings.Replacer, []string, []string) {
	if m == nil {
		return nil, nil, nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.repl, m.secrets, m.probes
}

// String scrubs s. Most text holds no secret, and strings.Contains
// (vectorised) finds that out far faster than the Replacer's walk
// (10 MB: ~200 ms), so the Replacer runs only when a probe hits.
func (m *Masker) String(s string) string {
	r, _, probes := m.snapshot()
	if r == nil || !containsAny(s, probes) {
		return s
	}
	return r.Replace(s)
}

// Bytes scrubs b.
func (m *Masker) Bytes(b []byte) []byte {
	if m.ContainsBytes(b) {
		return []byte(m.String(string(b)))
	}
	return b
}

// ContainsBytes is Contains without copying b into a string: a saved plan
// of 12 MB is checked on every plan run.
func (m *Masker) ContainsBytes(b []byte) bool {
	_, secrets, probes := m.snapshot()
	return containsAnyBytes(b, probes) && containsAnyBytes(b, secrets)
}

func containsAnyBytes(b []byte, subs []string) bool {
	for _, sub := range subs {
		if bytes.Contains(b, []byte(sub)) {
			return true
		}
	}
	return false
}

// Contains reports whether s holds a known secret in any of its forms.
func (m *Masker) Contains(s string) bool {
	_, secrets, probes := m.snapshot()
	return containsAny(s, probes) && containsAny(s, secrets)
}
