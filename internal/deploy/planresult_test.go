package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// TestPlanResultDecodesAsEncodingJSON: whenever the one-pass decoder takes
// a plan result, encoding/json reads the same value from it; whatever
// encoding/json refuses, it refuses too (the client then reports
// encoding/json's error). Results are random plans, cut and spliced.
func TestPlanResultDecodesAsEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	strs := []string{"", "a", "prompt/x", `"q"`, `\`, "<&>", "\n", "\u2028", "é", "\xff"}
	str := func() string { return strs[r.Intn(len(strs))] + strs[r.Intn(len(strs))] }
	taken := 0
	for i := 0; i < 20000; i++ {
		p := PlanResponse{Summary: str()}
		for n := r.Intn(4); n > 0; n-- {
			p.Changes = append(p.Changes, ResourceChange{Type: str(), Name: str(), Action: Action(str()), Detail: str()})
		}
		if r.Intn(2) == 0 {
			p.Warnings = []string{str()}
		}
		b, _ := json.Marshal(p)
		s := string(b)
		switch r.Intn(8) {
		case 0: // cut
			s = s[:r.Intn(len(s)+1)]
		case 1: // an unknown key, a case-folded key, a duplicate
			s = strings.Replace(s, `"summary"`, []string{`"Summary"`, `"other"`, `"changes":null,"summary"`}[r.Intn(3)], 1)
		case 2: // a null or a non-string where strings go
			s = strings.Replace(s, `"detail":`, []string{`"detail":null,"x":`, `"detail":1,"x":`, `"extra":[1],"detail":`}[r.Intn(3)], 1)
		case 3:
			s = " " + strings.ReplaceAll(s, ",", " ,\n") + "\t"
		case 4:
			s = strings.Replace(s, `"changes":`, `"changes":null,"x":`, 1)
		}
		var want, got PlanResponse
		werr := json.Unmarshal([]byte(s), &want)
		if !decodePlanResult([]byte(s), &got) {
			continue
		}
		taken++
		if werr != nil {
			t.Fatalf("%q: decoded, encoding/json refuses it: %v", s, werr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %#v\nwant %#v", s, got, want)
		}
	}
	if taken < 5000 {
		t.Errorf("the one-pass decoder took only %d of 20000 results", taken)
	}
}

// TestResponseDecodesAsEncodingJSON: a response line the one-pass decoder
// takes is decoded exactly as encoding/json decodes it, and it leaves to
// encoding/json every line it would refuse or read another way (keys in
// another case or written twice, nulls, a non-string jsonrpc, an error
// that is not an object, invalid JSON).
func TestResponseDecodesAsEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	vals := []string{`1`, `"x"`, `null`, `{"changes":[],"summary":"s"}`, `[1,{"a":"\u00e9"}]`, `"\u2028<&>"`, `{"code":-32000,"message":"m","data":{"x":1}}`, `{"code":"x"}`, `true`, `{"message":"m","extra":1}`}
	keys := []string{"jsonrpc", "id", "result", "error", "JSONRPC", "Id", "resulT", "other", "ıd", "re\u017fult", "j\u017fonrpc", "ID"}
	taken := 0
	for i := 0; i < 30000; i++ {
		var b strings.Builder
		b.WriteString("{")
		n := r.Intn(5)
		for j := 0; j < n; j++ {
			if j > 0 {
				b.WriteString([]string{",", " , ", ",\n\t"}[r.Intn(3)])
			}
			k := keys[r.Intn(4)]
			if r.Intn(4) == 0 {
				k = keys[r.Intn(len(keys))]
			}
			v := vals[r.Intn(len(vals))]
			if k == "jsonrpc" && r.Intn(2) == 0 {
				v = `"2.0"`
			}
			fmt.Fprintf(&b, "%q:%s", k, v)
		}
		b.WriteString("}")
		s := b.String()
		switch r.Intn(10) {
		case 0:
			s = s[:r.Intn(len(s)+1)]
		case 1:
			s = " " + s + " \t"
		case 2:
			s = "[" + s + "]"
		}
		var want RPCResponse
		werr := json.Unmarshal([]byte(s), &want)
		got, ok := decodeResponse([]byte(s))
		if !ok {
			continue
		}
		taken++
		if werr != nil {
			t.Fatalf("%q: decoded, encoding/json refuses it: %v", s, werr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %#v\nwant %#v", s, got, want)
		}
	}
	if taken < 3000 {
		t.Fatalf("only %d lines took the one-pass decoder", taken)
	}
}

// TestReadLineJoinsChunks: lines shorter and longer than the reader's
// buffer and than a chunk are read whole, without their line ending, and
// a last line without one is read to its end.
func TestReadLineJoinsChunks(t *testing.T) {
	var in bytes.Buffer
	var want []string
	for _, n := range []int{0, 1, 100, 64 << 10, 64<<10 + 1, 3<<20 + 17, 5} {
		l := strings.Repeat("a", n/2) + strings.Repeat("é", n/4)
		want = append(want, l)
		in.WriteString(l + []string{"\n", "\r\n"}[n%2])
	}
	in.WriteString("tail")
	br := bufio.NewReaderSize(&in, 4096)
	for _, w := range want {
		got, err := readLine(br)
		if err != nil || string(got) != w {
			t.Fatalf("line of %d bytes: got %d bytes, %v", len(w), len(got), err)
		}
		if cap(got) > len(got)+2 {
			t.Errorf("line of %d bytes held in %d", len(got), cap(got))
		}
	}
	got, err := readLine(br)
	if string(got) != "tail" || !errors.Is(err, io.EOF) {
		t.Fatalf("last line %q, %v", got, err)
	}
}
