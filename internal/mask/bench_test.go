package mask

import (
	"strings"
	"testing"
)

// BenchmarkCredentials: every string of a deploy and arena config is
// searched for a credential's shape; a megabyte of prompt text holding
// none. (Regular expressions run only where their literal start is: 1.2 s
// a megabyte before, tens of milliseconds after on this 2-core machine.)
func BenchmarkCredentials(b *testing.B) {
	s := strings.Repeat("You are the support bot of {{company}}. Reset the password of the session politely. ", 12000)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		_ = credentials(s)
	}
}
