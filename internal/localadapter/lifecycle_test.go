package localadapter

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unsafe"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

func startAdapter(t *testing.T, dir string) *deploy.AdapterClient {
	t.Helper()
	c, err := deploy.NewAdapterClient(context.Background(), deploytest.LocalAdapter(t), deploy.WithDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c
}

func actions(p *deploy.PlanResponse) string {
	var s []string
	for _, c := range p.Changes {
		s = append(s, c.Type+"/"+c.Name+"="+string(c.Action))
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

func setPrompt(t *testing.T, pack string, key, template string) string {
	t.Helper()
	// Raw messages keep the other prompts' bytes as the compiler wrote them.
	var m map[string]json.RawMessage
	var prompts map[string]json.RawMessage
	if err := json.Unmarshal([]byte(pack), &m); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(m["prompts"], &prompts); err != nil {
		t.Fatal(err)
	}
	if template == "" {
		delete(prompts, key)
	} else {
		prompts[key], _ = json.Marshal(map[string]any{"id": key, "system_template": template})
	}
	m["prompts"], _ = json.Marshal(prompts)
	b, _ := json.Marshal(m)
	return string(b)
}

func TestLifecycle(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	c := startAdapter(t, dir)
	packBytes, err := os.ReadFile(filepath.Join(deploytest.RepoRoot(), "testdata", "example", "support-bot.pack.json"))
	if err != nil {
		t.Fatal(err)
	}
	req := &deploy.PlanRequest{PackJSON: string(packBytes), DeployConfig: `{"target_dir":"out"}`, Environment: "default"}

	info, err := c.GetProviderInfo(ctx)
	if err != nil || info.Name != "local" || info.ConfigSchema == "" {
		t.Fatalf("info %+v %v", info, err)
	}
	step := func(name, want string) {
		t.Helper()
		plan, err := c.Plan(ctx, req)
		if err != nil {
			t.Fatalf("%s: plan: %v", name, err)
		}
		if got := actions(plan); got != want {
			t.Fatalf("%s:\n got  %s\n want %s", name, got, want)
		}
	}
	apply := func() {
		t.Helper()
		var events []string
		state, err := c.Apply(ctx, req, func(e *deploy.ApplyEvent) error {
			events = append(events, e.Type)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if events[0] != "progress" || events[len(events)-1] != "complete" {
			t.Fatalf("events %v", events)
		}
		req.PriorState = state
	}

	step("first plan", "pack/support-bot=CREATE prompt/escalation=CREATE prompt/greeting=CREATE prompt/refund=CREATE")
	apply()
	for _, f := range []string{"out/pack.json", "out/prompts/greeting.json", "out/prompts/refund.json", "out/prompts/escalation.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	step("after apply", "pack/support-bot=NO_CHANGE prompt/escalation=NO_CHANGE prompt/greeting=NO_CHANGE prompt/refund=NO_CHANGE")

	req.PackJSON = setPrompt(t, req.PackJSON, "greeting", "Hello there")
	step("prompt changed", "pack/support-bot=NO_CHANGE prompt/escalation=NO_CHANGE prompt/greeting=UPDATE prompt/refund=NO_CHANGE")
	apply()

	if err := os.WriteFile(filepath.Join(dir, "out/prompts/refund.json"), []byte(`{"hacked":true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "out/prompts/escalation.json")); err != nil {
		t.Fatal(err)
	}
	step("tampered", "pack/support-bot=NO_CHANGE prompt/escalation=DRIFT prompt/greeting=NO_CHANGE prompt/refund=DRIFT")

	st, err := c.Status(ctx, &deploy.StatusRequest{DeployConfig: req.DeployConfig, PriorState: req.PriorState})
	if err != nil {
		t.Fatal(err)
	}
	health := map[string]string{}
	for _, r := range st.Resources {
		health[r.Name] = r.Status
	}
	if st.Status != "degraded" || health["refund"] != "unhealthy" || health["escalation"] != "missing" || health["greeting"] != "healthy" {
		t.Fatalf("status %s %v", st.Status, health)
	}

	apply() // restores the drifted files
	req.PackJSON = setPrompt(t, req.PackJSON, "refund", "")
	// The pack manifest lists the prompts, so it changes too.
	step("prompt removed", "pack/support-bot=UPDATE prompt/escalation=NO_CHANGE prompt/greeting=NO_CHANGE prompt/refund=DELETE")
	apply()
	if _, err := os.Stat(filepath.Join(dir, "out/prompts/refund.json")); !os.IsNotExist(err) {
		t.Fatal("deleted prompt still on disk")
	}

	// Someone else's file in the target must survive destroy.
	if err := os.WriteFile(filepath.Join(dir, "out", "README"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.Destroy(ctx, &deploy.DestroyRequest{DeployConfig: req.DeployConfig, PriorState: req.PriorState}, nil); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "out"))
	if len(entries) != 1 || entries[0].Name() != "README" {
		t.Fatalf("after destroy: %v", entries)
	}
	_ = os.Remove(filepath.Join(dir, "out", "README"))
}

func TestDestroyRemovesDirectoryItCreated(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	c := startAdapter(t, dir)
	req := &deploy.PlanRequest{PackJSON: `{"id":"p","prompts":{"a":{"x":1}}}`, DeployConfig: `{"target_dir":"deep/out"}`}
	state, err := c.Apply(ctx, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Destroy(ctx, &deploy.DestroyRequest{DeployConfig: req.DeployConfig, PriorState: state}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "deep", "out")); !os.IsNotExist(err) {
		t.Fatal("target dir left behind")
	}
	if _, err := os.Stat(filepath.Join(dir, "deep")); err != nil {
		t.Fatal("parent it did not create was removed")
	}
}

func TestValidateConfig(t *testing.T) {
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "file"), nil, 0o644)
	c := startAdapter(t, dir)
	cases := []struct {
		config, wantErr, wantWarn string
	}{
		{`{"target_dir":"out"}`, "", ""},
		{`{}`, "target_dir is required", ""},
		{`{"target_dir":""}`, "target_dir is required", ""},
		{`{"target_dir":"file"}`, "is a file", ""},
		{`{"target_dir":"file/sub"}`, "is a file", ""},
		{`{"target_dir":"out","region":"eu"}`, "", `unknown config key "region"`},
		{`[]`, "not a JSON object", ""},
	}
	for _, tc := range cases {
		resp, err := c.ValidateConfig(context.Background(), &deploy.ValidateRequest{Config: tc.config})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Valid != (tc.wantErr == "") || (tc.wantErr != "" && !strings.Contains(strings.Join(resp.Errors, ";"), tc.wantErr)) {
			t.Errorf("%s: %+v", tc.config, resp)
		}
		if tc.wantWarn != "" && !strings.Contains(strings.Join(resp.Warnings, ";"), tc.wantWarn) {
			t.Errorf("%s: warnings %v", tc.config, resp.Warnings)
		}
	}
}

func TestImportAdoptsFile(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	c := startAdapter(t, dir)
	content := "{\n  \"x\": 1\n}\n"
	_ = os.MkdirAll(filepath.Join(dir, "out", "prompts"), 0o755)
	_ = os.WriteFile(filepath.Join(dir, "out", "prompts", "a.json"), []byte(content), 0o644)
	resp, err := c.Import(ctx, &deploy.ImportRequest{ResourceType: "prompt", ResourceName: "a", DeployConfig: `{"target_dir":"out"}`})
	if err != nil || resp.Resource.Status != "healthy" {
		t.Fatalf("%+v %v", resp, err)
	}
	plan, err := c.Plan(ctx, &deploy.PlanRequest{PackJSON: `{"id":"p","prompts":{"a":{"x":1}}}`, DeployConfig: `{"target_dir":"out"}`, PriorState: resp.State})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(plan); got != "pack/p=CREATE prompt/a=NO_CHANGE" {
		t.Fatalf("after import: %s", got)
	}
	if _, err := c.Import(ctx, &deploy.ImportRequest{ResourceType: "prompt", ResourceName: "zz", DeployConfig: `{"target_dir":"out"}`}); err == nil {
		t.Fatal("import of a missing file succeeded")
	}
}

func TestApplyFailureKeepsPartialState(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	c := startAdapter(t, dir)
	// A directory where refund.json must go makes that one write fail.
	_ = os.MkdirAll(filepath.Join(dir, "out", "prompts", "refund.json", "x"), 0o755)
	req := &deploy.PlanRequest{PackJSON: `{"id":"p","prompts":{"greeting":{"a":1},"refund":{"b":2}}}`, DeployConfig: `{"target_dir":"out"}`}
	state, err := c.Apply(ctx, req, nil)
	if err == nil || !strings.Contains(err.Error(), "refund.json") {
		t.Fatalf("got %v", err)
	}
	if state == "" {
		t.Fatal("partial state lost")
	}
	req.PriorState = state
	_ = os.RemoveAll(filepath.Join(dir, "out", "prompts", "refund.json"))
	plan, err := c.Plan(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(plan); got != "pack/p=CREATE prompt/greeting=NO_CHANGE prompt/refund=CREATE" {
		t.Fatalf("after partial apply: %s", got)
	}
}

func TestBadPackKey(t *testing.T) {
	c := startAdapter(t, t.TempDir())
	_, err := c.Plan(context.Background(), &deploy.PlanRequest{PackJSON: `{"id":"p","prompts":{"../../etc/passwd":{}}}`, DeployConfig: `{"target_dir":"out"}`})
	if err == nil || !strings.Contains(err.Error(), "cannot be a file name") {
		t.Fatalf("got %v", err)
	}
}

// TestPromptsReadInPlace: the prompts the adapter plans with are the
// request's own bytes, not copies of them (a copy was the whole pack
// again), and they are each prompt's JSON exactly.
func TestPromptsReadInPlace(t *testing.T) {
	packJSON := `{"id":"p","prompts":{"a":{"id":"a","system_template":"x\ny"},"b": {"id":"b"} }}`
	want, err := desiredResources(packJSON, config{TargetDir: "out"})
	if err != nil {
		t.Fatal(err)
	}
	start := uintptr(unsafe.Pointer(unsafe.StringData(packJSON)))
	for _, w := range want[:2] {
		p := uintptr(unsafe.Pointer(&w.raw[0]))
		if p < start || p >= start+uintptr(len(packJSON)) {
			t.Errorf("%s: a copy of the prompt", w.Name)
		}
	}
	if string(want[0].raw) != `{"id":"a","system_template":"x\ny"}` || string(want[1].raw) != `{"id":"b"}` {
		t.Errorf("prompts %s, %s", want[0].raw, want[1].raw)
	}
}

// TestFirstPlanOverFilesAlreadyThere: a first plan (no state) reads the
// prompts directory once; a prompt whose file is not listed is written, and
// one whose name is there is looked at as before: adopted when it holds
// what the pack renders, replaced otherwise (a file, a directory, a
// symbolic link). A pack naming one prompt twice deploys the last.
func TestFirstPlanOverFilesAlreadyThere(t *testing.T) {
	base := t.TempDir()
	p := &Provider{BaseDir: base}
	pk := `{"id":"p","prompts":{"same":{"t":"x"},"other":{"t":"y"},"dir":{"t":"z"},"link":{"t":"w"},"new":{"t":"v"},"twice":{"t":1},"twice":{"t":2}}}`
	dir := filepath.Join(base, "out", "prompts")
	if err := os.MkdirAll(filepath.Join(dir, "dir.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	same, _ := indent(json.RawMessage(`{"t":"x"}`))
	for name, data := range map[string][]byte{"same.json": same, "other.json": []byte("{}\n"), "target": same} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("target", filepath.Join(dir, "link.json")); err != nil {
		t.Fatal(err)
	}
	resp, err := p.Plan(context.Background(), &deploy.PlanRequest{PackJSON: pk, DeployConfig: `{"target_dir":"out"}`})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range resp.Changes {
		got[c.Name] = string(c.Action) + ": " + c.Detail
	}
	rel := func(n string) string { return filepath.Join("out", "prompts", n+".json") }
	want := map[string]string{
		"same":  "NO_CHANGE: " + rel("same") + " already has this content; it will be adopted",
		"other": "CREATE: write " + rel("other") + ", replacing a file this adapter did not deploy",
		"dir":   "CREATE: write " + rel("dir") + ", replacing a file this adapter did not deploy",
		"link":  "CREATE: write " + rel("link") + ", replacing a file this adapter did not deploy",
		"new":   "CREATE: write " + rel("new"),
		"twice": "CREATE: write " + rel("twice"),
		"p":     "CREATE: write " + filepath.Join("out", "pack.json"),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("changes %v", got)
	}
	want2, err := desiredResources(pk, config{TargetDir: "out"})
	if err != nil || string(want2[len(want2)-2].raw) != `{"t":2}` || want2[len(want2)-2].Name != "twice" {
		t.Errorf("the prompt named twice: %+v %v", want2, err)
	}
}
