package pack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

// treeDigest is the content digest as first defined: decode the whole pack
// into a tree (numbers as written), drop compilation, re-marshal, digest.
// ContentDigest must always agree with it.
func treeDigest(raw []byte) (string, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return "", err
	}
	delete(m, "compilation")
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return deploy.ComputePackChecksum(b), nil
}

func randomValue(r *rand.Rand, depth int) string {
	strs := []string{`"a"`, `"<b>&"`, `"\u00e9\n\"q\""`, `"\ud83d\ude00"`, `"\ud800"`, `""`, `"日本"`, `"\\\\"`, `"x\/y"`,
		// Escapes encoding/json writes as they are, and ones it does not.
		`"\u003c\u003e\u0026 \u0001\u001f \b\f\r\t \u2028\u2029"`, `"\u003C"`, `"\u000a"`, `"\u0041"`, `"\ufffd"`, "\"\u2028 raw\"", "\"’ — …\"", `"\u00"`}
	switch k := r.Intn(7); {
	case depth > 3 || k == 0:
		return strs[r.Intn(len(strs))]
	case k == 1:
		return []string{"0", "-1.5e10", "12345678901234567890", "1E2", "true", "false", "null"}[r.Intn(7)]
	case k == 2:
		var parts []string
		for n := r.Intn(4); n > 0; n-- {
			parts = append(parts, randomValue(r, depth+1))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	default:
		var parts []string
		// Keys with escapes encoding/json writes too, which sort apart
		// from their literals ("\u003ck" is "<k", before "Z").
		keys := []string{`"id"`, `"b"`, `"a"`, `"Z"`, `"é"`, `"a"`, `"<k>"`, `"compilation"`, `"\u0041"`, `"\u003ck"`, `"a\nb"`, `"a\"q"`}
		for n := r.Intn(5); n > 0; n-- {
			parts = append(parts, keys[r.Intn(len(keys))]+" :"+randomValue(r, depth+1))
		}
		return "{\n  " + strings.Join(parts, ",\n  ") + "}"
	}
}

func TestContentDigestMatchesTree(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for i := 0; i < 20_000; i++ {
		raw := []byte(`{"id":"p","compilation":{"at":"` + fmt.Sprint(i) + `"},"x":` + randomValue(r, 0) + `}`)
		checkDigest(t, raw)
	}
	checkDigest(t, []byte(deploytest.BigPack(1<<20)))
}

func checkDigest(t testing.TB, raw []byte) {
	want, werr := treeDigest(raw)
	p, err := Parse(raw)
	if werr != nil || err != nil {
		// Parse refuses, as it should, a pack without an id or whose
		// id, name or version is not a string; the tree digests those.
		if (werr == nil) != (err == nil) && json.Valid(raw) && !strings.Contains(fmt.Sprint(err), `no "id"`) && !strings.Contains(fmt.Sprint(err), "not a string") {
			t.Fatalf("%s: Parse %v, tree %v", raw, err, werr)
		}
		return
	}
	if got := p.ContentDigest(); got != want {
		t.Fatalf("%s:\nContentDigest %s\ntree          %s", raw, got, want)
	}
}

// A recompiled pack (new compilation block, other key order, other
// whitespace) has the same content digest; a changed prompt has another.
func TestContentDigestIgnoresCompilation(t *testing.T) {
	a, _ := Parse([]byte(`{"id":"p","compilation":{"compiled_at":"1"},"prompts":{"a":{"t":"hi"}}}`))
	b, _ := Parse([]byte("{\n  \"prompts\": {\"a\": {\"t\": \"hi\"}},\n  \"id\": \"p\",\n  \"compilation\": {\"compiled_at\": \"2\"}\n}"))
	c, _ := Parse([]byte(`{"id":"p","compilation":{"compiled_at":"1"},"prompts":{"a":{"t":"hi!"}}}`))
	if a.ContentDigest() != b.ContentDigest() || a.ContentDigest() == c.ContentDigest() || a.Checksum == b.Checksum {
		t.Fatal("content digest does not ignore exactly the compilation block")
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"{\"id\":\"p\",\n\"t\":\"\xff\"}", "not valid UTF-8 (line 2, column 6)"},
		{`{"id":"p"}{"id":"q"}`, "line 1, column 11: more than one JSON value"},
		{`{"id":"p"} x`, "line 1, column 12"},
		{"{\"id\":\"p\",\n  \"x\": }", "line 2, column 8"},
		{`["p"]`, "not an object"},
		{`{"id":7}`, `its "id" is 7, not a string`},
		{`{"version":"1.0.0","prompts":{}}`, `it has no "id"`},
		{``, "line 1, column 1"},
	} {
		_, err := Parse([]byte(tc.raw))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want %q", tc.raw, err, tc.want)
		}
	}
	p, err := Parse([]byte(` {"id":"support-bot","name":null,"version":"1.2.0","prompts":{}} `))
	if err != nil || p.Meta != (Meta{ID: "support-bot", Version: "1.2.0"}) {
		t.Fatalf("%+v %v", p, err)
	}
}

func FuzzContentDigest(f *testing.F) {
	f.Add([]byte(`{"id":"p","compilation":{},"prompts":{"a":{"t":"x\"y","n":[1,2.5e3,true,null]}}}`))
	f.Add([]byte(`{"id":"p","b":1,"a":{"z":"\u003c","y":"\ud83d\ude00"},"a":2}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkDigest(t, raw)
	})
}

func BenchmarkParse9MB(b *testing.B) {
	raw := []byte(deploytest.BigPack(9 << 20))
	b.SetBytes(int64(len(raw)))
	for i := 0; i < b.N; i++ {
		if _, err := Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkContentDigest9MB(b *testing.B) {
	raw := []byte(deploytest.BigPack(9 << 20))
	b.SetBytes(int64(len(raw)))
	for i := 0; i < b.N; i++ {
		p, _ := Parse(raw)
		_ = p.ContentDigest()
	}
}

// BenchmarkTreeDigest9MB is the digest as it was: for comparison.
func BenchmarkTreeDigest9MB(b *testing.B) {
	raw := []byte(deploytest.BigPack(9 << 20))
	b.SetBytes(int64(len(raw)))
	for i := 0; i < b.N; i++ {
		if _, err := treeDigest(raw); err != nil {
			b.Fatal(err)
		}
	}
}
