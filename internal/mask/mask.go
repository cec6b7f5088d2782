// Package mask keeps secrets out of everything the action shows or stores:
// it finds secret-looking values in a deploy config, replaces them with a
// fingerprint in anything uploaded or posted, and scrubs them from text.
package mask

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"
)

// secretWords mark a config key as secret, case-insensitively, anywhere in
// the key (api_token, clientSecret, DB_PASSWORD, signing_key, credentials).
var secretWords = []string{"token", "secret", "password", "key", "credential"}

// minSecretLen keeps very short values (e.g. "1", "eu") out of the
// text scrubber, where replacing them would garble every message.
const minSecretLen = 4

// IsSecretKey reports whether a config key names a secret.
func IsSecretKey(k string) bool {
	lk := strings.ToLower(k)
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

// Redact returns a deep copy of v (decoded JSON or YAML) in which every value
// under a secret-looking key is replaced by its fingerprint, and the secret
// strings found.
func Redact(v any) (any, []string) {
	var found []string
	out := redact(v, false, &found)
	return out, found
}

func redact(v any, secret bool, found *[]string) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, val := range t {
			out[k] = redact(val, secret || IsSecretKey(k), found)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, val := range t {
			out[i] = redact(val, secret, found)
		}
		return out
	case nil:
		return nil
	}
	if !secret {
		return v
	}
	s := scalar(v)
	*found = append(*found, s)
	return Fingerprint(s)
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

// Masker scrubs known secret values from text.
type Masker struct {
	secrets []string
	repl    *strings.Replacer
}

// NewMasker scrubs the given values (and their JSON-escaped forms).
func NewMasker(secrets ...string) *Masker {
	m := &Masker{}
	m.Add(secrets...)
	return m
}

// Add registers more secret values.
func (m *Masker) Add(secrets ...string) {
	for _, s := range secrets {
		if len(s) < minSecretLen {
			continue
		}
		m.secrets = append(m.secrets, s)
		if esc, _ := json.Marshal(s); string(esc[1:len(esc)-1]) != s {
			m.secrets = append(m.secrets, string(esc[1:len(esc)-1]))
		}
	}
	// Longest first, so a secret that contains another is replaced whole.
	sort.Slice(m.secrets, func(i, j int) bool { return len(m.secrets[i]) > len(m.secrets[j]) })
	var pairs []string
	for _, s := range m.secrets {
		pairs = append(pairs, s, "***")
	}
	m.repl = strings.NewReplacer(pairs...)
}

// Secrets returns the registered values (for ::add-mask::).
func (m *Masker) Secrets() []string { return append([]string(nil), m.secrets...) }

// String scrubs s.
func (m *Masker) String(s string) string {
	if m == nil || m.repl == nil {
		return s
	}
	return m.repl.Replace(s)
}
