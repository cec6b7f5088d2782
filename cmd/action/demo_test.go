//go:build !nodemo

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestDemo runs the README's first command in process.
func TestDemo(t *testing.T) {
	var out, errOut bytes.Buffer
	code := demo(context.Background(), nil, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errOut.String(), out.String())
	}
	for _, want := range []string{"+4 to create", "Applied", "[skip ci]", "Arena status of **production**: deployed", "~1 to update", `"environment": "production"`,
		"<details open><summary><code>escalation</code> changed · +1 −1</summary>", "+Summarise the conversation for a human agent in three bullet points."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
}
