package mask

import (
	"encoding/json"
	"gopkg.in/yaml.v3"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	cfg := map[string]any{
		"region":    "eu-west-1",
		"api_token": "tok-123456",
		"nested":    map[string]any{"clientSecret": "s3cr3t-value", "replicas": 3},
		"creds":     []any{map[string]any{"Password": "hunter2hunter2"}},
		"credentials": map[string]any{
			"user": "bob-the-builder", "port": 5432,
		},
		"signing_key": 12345678,
	}
	out, found := Redact(cfg)
	b, _ := json.Marshal(out)
	s := string(b)
	for _, secret := range []string{"tok-123456", "s3cr3t-value", "hunter2hunter2", "bob-the-builder", "12345678"} {
		if strings.Contains(s, secret) {
			t.Errorf("%s leaked: %s", secret, s)
		}
	}
	if !strings.Contains(s, "eu-west-1") || !strings.Contains(s, `"replicas":3`) {
		t.Errorf("non-secrets lost: %s", s)
	}
	// The port is redacted in place but not a text secret: 5432 would mask
	// every checksum that holds it.
	if len(found) != 5 || strings.Contains(strings.Join(found, ","), "5432") || !strings.Contains(s, `"port":"redacted:`) {
		t.Errorf("found %v in %s", found, s)
	}
	// Stable: the same secret redacts the same way; another one differently.
	out2, _ := Redact(cfg)
	b2, _ := json.Marshal(out2)
	if string(b2) != s {
		t.Error("redaction is not stable")
	}
	if Fingerprint("a") == Fingerprint("b") {
		t.Error("fingerprints collide")
	}
	if cfg["api_token"] != "tok-123456" {
		t.Error("input modified")
	}
}

func TestMaskerScrubsEscapedForms(t *testing.T) {
	m := NewMasker(`pa"ss\word-1`, "ab", "tok-123456")
	in := `token tok-123456 and {"p":"pa\"ss\\word-1"} and ab`
	got := m.String(in)
	if strings.Contains(got, "tok-123456") || strings.Contains(got, `pa\"ss\\word-1`) {
		t.Errorf("leak: %s", got)
	}
	if !strings.HasSuffix(got, "and ab") {
		t.Errorf("short value masked: %s", got)
	}
	var nilM *Masker
	if nilM.String("x") != "x" {
		t.Error("nil masker")
	}
}

func TestRedactJSON(t *testing.T) {
	got, found := RedactJSON(`{"target_dir":"out","api_key":"k-999999"}`)
	if strings.Contains(got, "k-999999") || len(found) != 1 {
		t.Errorf("%s %v", got, found)
	}
	got, _ = RedactJSON("not json with k-999999")
	if strings.Contains(got, "k-999999") {
		t.Error(got)
	}
}

// TestRedactPlacements: one row per place a secret can hide in a config.
func TestRedactPlacements(t *testing.T) {
	const sec = "s3cr3t-VALUE-42"
	cases := []struct {
		name string
		yaml string
	}{
		{"token key", "api_token: " + sec},
		{"auth", "auth: " + sec},
		{"bearer", "bearer: " + sec},
		{"dsn", "dsn: " + sec},
		{"passwd", "db_passwd: " + sec},
		{"pwd", "PWD: " + sec},
		{"cert", "client_cert: " + sec},
		{"private", "private_pem: " + sec},
		{"credential", "gcp_credentials: " + sec},
		{"session", "session_id: " + sec},
		{"cookie", "cookie: " + sec},
		{"signature", "signature: " + sec},
		{"nested under a secret key", "auth:\n  user: " + sec},
		{"in a list under a secret key", "tokens: [" + sec + "]"},
		{"URL user and password", "endpoint: https://bob:" + sec + "@api.example.test/v1"},
		{"URL token user", "repo: https://" + sec + "@git.example.test/x.git"},
		{"URL inside text", "note: connect with postgres://app:" + sec + "@db:5432/x please"},
		{"headers name/value", "headers:\n  - name: Authorization\n    value: Bearer " + sec},
		{"headers key/value", "headers:\n  - key: X-Api-Key\n    value: " + sec},
		{"YAML alias under a plain key", "api_token: &t " + sec + "\nplain: *t"},
		{"copy inside a longer plain value", "api_token: " + sec + "\nurl: https://x.test/?k=" + sec},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var v any
			if err := yaml.Unmarshal([]byte(tc.yaml), &v); err != nil {
				t.Fatal(err)
			}
			out, found := Redact(v)
			b, _ := json.Marshal(out)
			if strings.Contains(string(b), sec) {
				t.Errorf("leaked: %s", b)
			}
			m := NewMasker(found...)
			if got := m.String("echo " + sec); strings.Contains(got, sec) {
				t.Errorf("masker misses it: %s (found %q)", got, found)
			}
		})
	}
	// Plain values stay readable.
	out, found := Redact(map[string]any{"region": "eu-west-1", "endpoint": "https://api.example.test/v1", "headers": []any{map[string]any{"name": "Accept", "value": "application/json"}}})
	if b, _ := json.Marshal(out); strings.Contains(string(b), "redacted") || len(found) != 0 {
		t.Errorf("over-redacted: %s %q", b, found)
	}
}

func TestMaskerLinesAndForms(t *testing.T) {
	pem := "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n"
	m := NewMasker(pem, "a_b*c-secret")
	m.AddForm(func(s string) string { return strings.NewReplacer("_", `\_`, "*", `\*`).Replace(s) })
	for _, in := range []string{
		"line: MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
		"json: " + strings.ReplaceAll(pem, "\n", `\n`),
		`markdown: a\_b\*c-secret`,
		"query: a_b%2Ac-secret",
	} {
		if got := m.String(in); !strings.Contains(got, "***") {
			t.Errorf("not masked: %q", got)
		}
	}
	if !m.Contains("x BKcwggSjAgEAAoIBAQC7 y") || m.Contains("nothing here") {
		t.Error("Contains")
	}
}

func TestEnvSecrets(t *testing.T) {
	env := []string{
		"OMNIA_API_TOKEN=tok-0123456789", "AUTH_ENABLED=true", "DB_PASSWORD=hunter2hunter2",
		"MY_PLAIN=listed-value", "HOME=/root", "SHORT_KEY=abc", "SESSION_TTL=3600",
		"PWD=/github/workspace", "GIT_AUTHOR_NAME=github-actions", "SSH_AUTH_SOCK=/tmp/ssh-agent.sock",
		// Paths are not secrets, whatever their names say...
		"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt", "SSL_CERT_DIR=/etc/ssl/certs", "NODE_EXTRA_CA_CERTS_FILE=./certs/corp-ca.pem",
		"GOOGLE_APPLICATION_CREDENTIALS_PATH=~/keys/sa.json", "CLIENT_CERT_FILE=certs/client.pem", "PRIVATE_KEY_PATH=C:\\keys\\id.pem",
		// ...but a secret in a path-named variable is still one.
		"API_KEY_FILE=sk-live-0123456789abcdef", "TOKEN_PATH=https://user:pass@example.test/x", "SECRET_DIR=not a path at all",
		"LISTED_PATH=/listed/path",
	}
	got := EnvSecrets(env, []string{"MY_PLAIN", "LISTED_PATH"})
	want := []string{"tok-0123456789", "hunter2hunter2", "listed-value", "sk-live-0123456789abcdef", "https://user:pass@example.test/x", "not a path at all", "/listed/path"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestCredentialsByShape: in content whose keys are the user's words, only
// a credential's shape (or a secret name/value pair) makes a secret.
func TestCredentialsByShape(t *testing.T) {
	doc := map[string]any{
		"password-reset": map[string]any{"priority": "urgent", "session_timeout": "30m", "api_key_hint": "rotate monthly"},
		"tools":          []any{map[string]any{"session_id": "string", "note": "use sk-proj-abcdefghijklmnop0123 here"}},
		"gh":             "ghp_" + strings.Repeat("a1B2", 9),
		"aws":            "AKIAABCDEFGHIJKLMNOP",
		"jwt":            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
		"auth":           "Bearer abcdefgh12345678",
		"url":            "https://deploy:pa55word@api.example.test/v1",
		"pair":           map[string]any{"name": "Authorization", "value": "opaque-header-value"},
	}
	got := strings.Join(Credentials(doc), "\n")
	for _, want := range []string{"sk-proj-abcdefghijklmnop0123", "ghp_" + strings.Repeat("a1B2", 9), "AKIAABCDEFGHIJKLMNOP", "eyJhbGciOiJIUzI1NiJ9.", "abcdefgh12345678", "pa55word", "opaque-header-value"} {
		if !strings.Contains(got, want) {
			t.Errorf("credential %q not found:\n%s", want, got)
		}
	}
	for _, word := range []string{"urgent", "30m", "rotate monthly", "string"} {
		for _, s := range Credentials(doc) {
			if s == word {
				t.Errorf("%q taken for a credential", word)
			}
		}
	}
}
