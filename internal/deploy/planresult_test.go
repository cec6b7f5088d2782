package deploy

import (
	"encoding/json"
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
