package arenaschema

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite bundle.json.gz from schemas/v1alpha1")

// vendored reads the vendored schema of each bundled kind.
func vendored(t *testing.T) map[Kind]json.RawMessage {
	t.Helper()
	out := map[Kind]json.RawMessage{}
	for _, k := range Kinds {
		b, err := os.ReadFile(filepath.Join("schemas", "v1alpha1", string(k)+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, b); err != nil {
			t.Fatal(err)
		}
		out[k] = compact.Bytes()
	}
	return out
}

// TestBundleIsTheVendoredSchemas: the embedded bundle holds exactly the
// vendored schemas of the kinds promptarena validates (-update makes it).
func TestBundleIsTheVendoredSchemas(t *testing.T) {
	want := vendored(t)
	if *update {
		raw, _ := json.Marshal(want)
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(raw)
		_ = zw.Close()
		if err := os.WriteFile("bundle.json.gz", buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		bundle = buf.Bytes()
	}
	zr, err := gzip.NewReader(bytes.NewReader(bundle))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(zr)
	var got, wantDocs map[Kind]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(want)
	_ = json.Unmarshal(again, &wantDocs)
	if !reflect.DeepEqual(got, wantDocs) {
		t.Fatal("bundle.json.gz is not schemas/v1alpha1: run go test ./internal/arenaschema -run TestBundle -update")
	}
}

// TestVendoredSchemasArePromptarenas: each vendored file has the git blob
// id promptarena's tree has at SchemaCommit (schemas/SOURCE.md lists
// them), so nothing was edited after it was copied.
func TestVendoredSchemasArePromptarenas(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("schemas", "SOURCE.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), SchemaCommit) {
		t.Errorf("SOURCE.md does not name commit %s", SchemaCommit)
	}
	lines := regexp.MustCompile(`(?m)^([0-9a-f]{40}) (v1alpha1/\S+\.json)$`).FindAllStringSubmatch(string(src), -1)
	if len(lines) != 12 {
		t.Fatalf("SOURCE.md lists %d files, want promptarena's 12", len(lines))
	}
	for _, l := range lines {
		b, err := os.ReadFile(filepath.Join("schemas", filepath.FromSlash(l[2])))
		if err != nil {
			t.Fatal(err)
		}
		h := sha1.New()
		fmt.Fprintf(h, "blob %d\x00", len(b))
		h.Write(b)
		if got := hex.EncodeToString(h.Sum(nil)); got != l[1] {
			t.Errorf("%s: blob %s, promptarena's is %s", l[2], got, l[1])
		}
	}
	if _, err := os.Stat(filepath.Join("schemas", "LICENSE")); err != nil {
		t.Error("the schemas' licence is not beside them")
	}
}
