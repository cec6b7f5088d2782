package localadapter

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
	"github.com/arena-deploy/arena-deploy-action/internal/packdiff/packdifftest"
)

// BenchmarkPlanInProcess10MB is the adapter's own share of a 10 MB plan.
func BenchmarkPlanInProcess10MB(b *testing.B) {
	p := &Provider{BaseDir: b.TempDir()}
	req := &deploy.PlanRequest{PackJSON: deploytest.BigPack(10 << 20), DeployConfig: `{"target_dir":"out"}`}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Plan(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCompactDigestMatchesCompact(t *testing.T) {
	for _, in := range []string{
		`{"a": 1, "b": [1, 2, {"c": "x y\t\n"}]}`,
		"{\n  \"s\": \"quote \\\" and \\\\ and space \",\r\n  \"t\" : true }",
		`"just a string with  spaces"`,
		`[ ]`,
		// Past the buffer: a string longer than it, and tokens filling it.
		`{"long": "` + strings.Repeat(`a \" b `, 3000) + `", "n": [` + strings.Repeat(`1, 2, "x y",`, 2000) + ` 3]}`,
		`[` + strings.Repeat(`"`+strings.Repeat("z ", 700)+`" , `, 30) + `0 ]`,
	} {
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(in)); err != nil {
			t.Fatal(err)
		}
		if compactDigest([]byte(in), sha256.New()) != digest(buf.Bytes()) {
			t.Errorf("digest differs from json.Compact for %s", in)
		}
	}
}

// TestSplitPackAsEncodingJSON: whenever splitPack takes a pack, it reads
// what json.Unmarshal reads into pack (each prompt's bytes as given to
// UnmarshalJSON); every shape it leaves is one encoding/json decides.
func TestSplitPackAsEncodingJSON(t *testing.T) {
	big, _ := packdifftest.Make(packdifftest.Shape{Bytes: 1 << 20, Prompts: 200})
	for _, tc := range []struct {
		in   string
		fast bool
	}{
		{string(big), true},
		{`{"id":"p","name":"N","version":"1","prompts":{"a":{"x":1},"b":[1, 2] ,"c":"s","d":null}}`, true},
		{` { "id" : "p" , "prompts" : { "a" : { "t" : "q\"}{" } , "a" : 2 } , "extra" : [ {"prompts":1} ] } `, true},
		{`{"id":"\u0070\"q","name":null,"prompts":{"\u00e9t\u00e9":{}}}`, true},
		{`{"id":"p","prompts":null}`, true},
		{`{"id":"p","prompts":{}}`, true},
		{`{"ID":"p","prompts":{}}`, false},
		{`{"id":"p","Prompts":{"a":1}}`, false},
		{`{"id":"p","prompts":{"a":1},"prompts":{"b":2}}`, false},
		{`{"id":"p","id":"q"}`, false},
		{`{"id":1}`, false},
		{`{"id":"p","prompts":[1]}`, false},
		{`{"id":"p","ſd":"x"}`, false},
		{`[1]`, false},
		{`{"id":"p",}`, false},
		{`{"id":"p"} {}`, false},
		{"{\"id\":\"p\xff\",\"prompts\":{\"k\xfe\":{}}}", true},
	} {
		got, prompts, ok := splitPack([]byte(tc.in))
		if prompts != nil {
			got.Prompts = map[string]inPack{}
			for _, p := range prompts {
				got.Prompts[p.name] = p.raw
			}
		}
		var want pack
		err := json.Unmarshal([]byte(tc.in), &want)
		if ok != tc.fast {
			t.Errorf("%.60q: split %v, want %v", tc.in, ok, tc.fast)
		}
		if !ok {
			continue
		}
		if err != nil {
			t.Fatalf("%.60q: split, but encoding/json says %v", tc.in, err)
		}
		same := got.ID == want.ID && got.Name == want.Name && got.Version == want.Version && (got.Prompts == nil) == (want.Prompts == nil) && len(got.Prompts) == len(want.Prompts)
		for k, v := range want.Prompts {
			same = same && bytes.Equal(got.Prompts[k], v)
		}
		if !same {
			t.Errorf("%.60q: split %+v, encoding/json %+v", tc.in, got, want)
		}
	}
}

// TestCompactDigestOfPackPrompts: every prompt of a pack packc might
// write digests as json.Compact writes it.
func TestCompactDigestOfPackPrompts(t *testing.T) {
	pk, _ := packdifftest.Make(packdifftest.Shape{Bytes: 2 << 20, Prompts: 300})
	_, prompts, ok := splitPack(pk)
	if !ok || len(prompts) != 300 {
		t.Fatalf("split %v, %d prompts", ok, len(prompts))
	}
	for _, p := range prompts {
		var buf bytes.Buffer
		if err := json.Compact(&buf, p.raw); err != nil {
			t.Fatal(err)
		}
		if compactDigest(p.raw, sha256.New()) != digest(buf.Bytes()) {
			t.Fatalf("%s: digest differs from json.Compact", p.name)
		}
	}
}
