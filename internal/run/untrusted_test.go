package run

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// TestClassifyUntrustedCertificate: a certificate no root trusts is a
// GitHub API error whose hint is the fix (SSL_CERT_FILE), not "check the
// token's permissions".
func TestClassifyUntrustedCertificate(t *testing.T) {
	err := fmt.Errorf("list comments: %w", &url.Error{Op: "Get", URL: "https://ghe.example/api/v3", Err: x509.UnknownAuthorityError{}})
	reason, hint := Classify(err)
	if reason != ReasonGitHubAPI || !strings.Contains(hint, "SSL_CERT_FILE") {
		t.Fatalf("Classify = %s, %q", reason, hint)
	}
}
