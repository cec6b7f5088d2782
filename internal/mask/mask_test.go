package mask

import (
	"encoding/json"
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
	if len(found) != 6 {
		t.Errorf("found %v", found)
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
