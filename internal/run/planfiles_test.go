package run

import (
	"bytes"
	"io"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/arena-deploy/arena-deploy-action/internal/artifacts"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/mask"
	"github.com/arena-deploy/arena-deploy-action/internal/packdiff"
	"github.com/arena-deploy/arena-deploy-action/internal/packdiff/packdifftest"
)

// TestStreamedPlanArtifactIsByteIdentical: the plan artifact zipped from
// readers (the saved plan escaped as it is read, pack.diff rendered a
// section at a time and masked as it streams) is byte for byte the zip of
// the files built whole, as plans were uploaded before: for a first
// deploy, an edit, and a pack holding a secret of the config (kept in the
// saved plan, detected; masked in pack.diff).
func TestStreamedPlanArtifactIsByteIdentical(t *testing.T) {
	const secret = "config-secret-0123456789"
	deployed, proposed := packdifftest.Make(packdifftest.Shape{Bytes: 1 << 20, Prompts: 300, Edits: 20})
	withSecret := bytes.Replace(proposed, []byte("Revised: "), []byte("Revised: "+secret+" "), 3)
	for _, tc := range []struct {
		name            string
		deployed, pack  []byte
		secretInThePlan bool
	}{
		{"first deploy", nil, proposed, false},
		{"edited", deployed, proposed, false},
		{"a secret in the pack", deployed, withSecret, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &session{masker: mask.NewMasker(secret)}
			d, err := packdiff.CompareValidated(tc.deployed, tc.pack)
			if err != nil {
				t.Fatal(err)
			}
			d.Mask(s.masker.String)
			res := &PlanResult{
				Saved: deploy.NewSavedPlan("local", "production", "sha256:x",
					&deploy.PlanResponse{Changes: []deploy.ResourceChange{{Type: "prompt", Name: "a", Action: deploy.ActionCreate}}},
					&deploy.PlanRequest{PackJSON: string(tc.pack), DeployConfig: `{"target_dir":"out"}`, Environment: "production"}),
				Markdown: "## plan\n", commentBody: "## plan\n",
				packDiff: func() io.Reader { return s.masker.Reader(d.TextReader("base", "head")) },
			}
			prov := []byte(`{"version": 1}`)

			// As before: every file whole, the text masked whole.
			planJSON, err := deploy.MarshalFile(res.Saved)
			if err != nil {
				t.Fatal(err)
			}
			before, err := artifacts.Zip([]artifacts.File{
				{Name: PlanFileName, Data: planJSON}, {Name: PlanMarkdownName, Data: s.masker.Bytes([]byte(res.Markdown))},
				{Name: ProvenanceFileName, Data: s.masker.Bytes(prov)},
				{Name: PlanCommentName, Data: s.masker.Bytes([]byte(res.commentBody))},
				{Name: PackDiffName, Data: s.masker.Bytes([]byte(d.Text("base", "head")))},
			})
			if err != nil {
				t.Fatal(err)
			}

			files, planSecret, err := s.planFiles(res, prov)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				if f.Name == PlanFileName || f.Name == PackDiffName {
					if f.Open == nil || f.Data != nil {
						t.Errorf("%s is not streamed", f.Name)
					}
				}
			}
			streamed, err := artifacts.Zip(files)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(streamed, before) {
				t.Fatalf("streamed artifact (%d bytes) differs from the one built whole (%d bytes)", len(streamed), len(before))
			}
			if planSecret.Found() != tc.secretInThePlan || s.masker.ContainsBytes(planJSON) != tc.secretInThePlan {
				t.Errorf("secret in the saved plan: detected %v, want %v", planSecret.Found(), tc.secretInThePlan)
			}
			unzipped, err := artifacts.Unzip(streamed, artifacts.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if tc.secretInThePlan && (!bytes.Contains(unzipped[PlanFileName], []byte(secret)) || strings.Contains(string(unzipped[PackDiffName]), secret)) {
				t.Error("the saved plan keeps the pack as it is, pack.diff masks the secret")
			}
		})
	}
}

// TestEagerGCRestores: the pack diff's lower collector target is put back
// after it, and a target already as low (or the collector off, GOGC=off)
// is left as it is.
func TestEagerGCRestores(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, before := range []int{25, 100, diffGCPercent, 5, -1} {
		debug.SetGCPercent(before)
		restore := eagerGC()
		during := debug.SetGCPercent(-1)
		debug.SetGCPercent(during)
		restore()
		after := debug.SetGCPercent(100)
		want := min(before, diffGCPercent)
		if before < 0 {
			want = before
		}
		if during != want || after != before {
			t.Errorf("GOGC %d: %d during the diff, %d after", before, during, after)
		}
	}
}
