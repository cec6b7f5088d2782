package evalresults

import (
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestResultsThatDecodeHuge: files under the 64 MiB limit whose values
// decode many times their size (a run's Messages of 20 million {}, Params
// of 30 million numbers, a JUnit file of 5 million elements) took 2.5 to
// 5 GB of memory to refuse or read: a runner of 7 GB was one file from
// running out. Past a count of values (JSON) or elements (XML) per file,
// which promptarena's own files are thousands of times under, they are
// refused before decoding, naming the file.
func TestResultsThatDecodeHuge(t *testing.T) {
	cases := []struct {
		name, file, body, says string
	}{
		{"a run of empty messages", "run", `{"RunID": "r1", "ScenarioID": "s", "ProviderID": "p", "Messages": [` + strings.Repeat("{},", 20<<20) + `{}]}`, "out/r1.json holds more than"},
		{"Params of numbers", "run", `{"RunID": "r1", "ScenarioID": "s", "ProviderID": "p", "Params": {"a": [` + strings.Repeat("1,", 30<<20) + `1]}}`, "out/r1.json holds more than"},
		{"an index of empty run ids", "index", `{"total_runs": 1, "run_ids": [` + strings.Repeat(`"",`, 20<<20) + `""]}`, "out/index.json holds more than"},
		{"JUnit of empty failures", "xml", `<testsuite name="s"><testcase name="a">` + strings.Repeat("<failure/>", 5<<20) + `</testcase></testsuite>`, "out/j.xml holds more than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root, dir := copyFixture(t, "otherpack")
			path := dir
			switch c.file {
			case "run":
				write(t, filepath.Join(dir, "index.json"), `{"total_runs": 1, "run_ids": ["r1"]}`)
				write(t, filepath.Join(dir, "r1.json"), c.body)
			case "index":
				write(t, filepath.Join(dir, "index.json"), c.body)
			case "xml":
				path = filepath.Join(dir, "j.xml")
				write(t, path, c.body)
			}
			c.body = ""
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Load(root, path, root.Dir())
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.says) {
				t.Errorf("error %v; want %v saying %q", err, ErrInvalid, c.says)
			}
			// The file is read (its bytes, once) and scanned: no more.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 200<<20 {
				t.Errorf("refusing it allocated %d MB", alloc>>20)
			}
		})
	}
}

func TestCountsOfValuesAndElements(t *testing.T) {
	for doc, want := range map[string]int{
		`{}`:                            2,
		`{"a":"x,{[\"y","b":[1,2]}`:     5,
		`"a \\" , {"`:                   3, // the escaped backslash ends the string
		`[{"k":"\\\\"},{}]`:             5,
		`{"a":"unterminated, {[ string`: 2,
	} {
		if got := jsonValues([]byte(doc)); got != want {
			t.Errorf("jsonValues(%s) = %d, want %d", doc, got, want)
		}
	}
	for doc, want := range map[string]int{
		`<?xml version="1.0"?><!-- c --><a><b/><![CDATA[x]]></a>`:     2,
		`<testsuites><testsuite><testcase/></testsuite></testsuites>`: 3,
		`text <`: 0,
	} {
		if got := xmlElements([]byte(doc)); got != want {
			t.Errorf("xmlElements(%s) = %d, want %d", doc, got, want)
		}
	}
}
