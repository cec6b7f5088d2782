package jsonwire

import (
	"encoding/json"
	"math/rand"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

// TestValidAsEncodingJSON: Valid answers as json.Valid, for JSON of every
// shape, cut and mutated byte by byte, nested to encoding/json's limit and
// beyond, and a real pack.
func TestValidAsEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	pieces := []string{`{`, `}`, `[`, `]`, `,`, `:`, ` `, "\n", "\t", `"`, `\`, `"a"`, `"\u00e9\n\"q\""`, `"\ud83d"`, `"\uZZZZ"`, `"\x"`,
		"\"\x01\"", "\"\xff\xfe\"", `0`, `-0`, `01`, `1.`, `1.5`, `-`, `1e`, `1E+5`, `2e-3`, `.5`, `true`, `tru`, `false`, `null`, `nul`, `"k":`, `x`}
	check := func(b []byte) {
		t.Helper()
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid %v", b, got, want)
		}
	}
	for i := 0; i < 200_000; i++ {
		var sb strings.Builder
		for n := r.Intn(12); n >= 0; n-- {
			sb.WriteString(pieces[r.Intn(len(pieces))])
		}
		check([]byte(sb.String()))
	}
	var vals []string
	for _, s := range []string{`{"a":[1,2,{"b":null}],"c":"d\"\\e","e":-1.5e+10}`, `[]`, `{}`, `[{}, [], ""]`, ` "x" `, `{"a":{"b":{"c":[true,false]}}}`} {
		vals = append(vals, s)
	}
	for _, v := range vals {
		b := []byte(v)
		check(b)
		for i := range b { // every cut, and every byte replaced
			check(b[:i])
			for _, c := range []byte{'"', '}', ']', ',', '1', ' ', 0x01, 0xff} {
				m := append([]byte(nil), b...)
				m[i] = c
				check(m)
			}
		}
	}
	for _, depth := range []int{maxDepth - 1, maxDepth, maxDepth + 1} {
		check([]byte(strings.Repeat("[", depth) + strings.Repeat("]", depth)))
		check([]byte(strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)))
	}
	check([]byte(deploytest.BigPack(1 << 20)))
}

func FuzzValid(f *testing.F) {
	f.Add([]byte(`{"a":[1,2,{"b":null}],"c":"d\"\\e","e":-1.5e+10}`))
	f.Add([]byte(`[[[]]] `))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid %v", b, got, want)
		}
	})
}

func BenchmarkValid9MB(b *testing.B) {
	pack := []byte(deploytest.BigPack(9 << 20))
	b.SetBytes(int64(len(pack)))
	for _, tc := range []struct {
		name  string
		valid func([]byte) bool
	}{{"jsonwire", Valid}, {"stdlib", json.Valid}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if !tc.valid(pack) {
					b.Fatal("invalid")
				}
			}
		})
	}
}
