package deploy

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from golden file\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func fixedClock(t *testing.T) {
	t.Helper()
	old := now
	now = func() time.Time { return time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC) }
	t.Cleanup(func() { now = old })
}

// TestJSONGolden pins every wire type's JSON names and omitempty behaviour
// to files written from PROTOCOL.md: empty and full values of each.
func TestJSONGolden(t *testing.T) {
	fixedClock(t)
	link := []Link{{Label: "console", URL: "https://example.test/a", Rel: "console"}}
	cases := []struct {
		name string
		v    any
	}{
		{"provider_info_min", ProviderInfo{Name: "omnia", Version: "1.4.0"}},
		{"provider_info_full", ProviderInfo{Name: "omnia", Version: "1.4.0", Capabilities: []string{"plan", "apply"}, ConfigSchema: `{"type":"object"}`}},
		{"validate_request", ValidateRequest{Config: `{"a":1}`}},
		{"validate_response_valid", ValidateResponse{Valid: true}},
		{"validate_response_errors", ValidateResponse{Errors: []string{"bad"}, Warnings: []string{"hmm"}}},
		{"plan_request_min", PlanRequest{PackJSON: "{}", DeployConfig: "{}"}},
		{"plan_request_full", PlanRequest{PackJSON: "{}", DeployConfig: "{}", ArenaConfig: "{}", Environment: "prod", PriorState: "abc"}},
		{"plan_response_empty", PlanResponse{}},
		{"plan_response_full", PlanResponse{Changes: []ResourceChange{
			{Type: "agent_runtime", Name: "a", Action: ActionCreate, Detail: "new"},
			{Type: "agent_runtime", Name: "b", Action: ActionNoChange},
		}, Summary: "1 to create", Warnings: []string{"w"}}},
		{"apply_response", ApplyResponse{AdapterState: "s", Events: []ApplyEvent{
			{Type: EventProgress, Message: "starting"},
			{Type: EventResource, Resource: &ResourceResult{Type: "t", Name: "n", Action: ActionCreate, Status: "created", Links: link}},
			{Type: EventComplete},
		}}},
		{"destroy_request", DestroyRequest{DeployConfig: "{}"}},
		{"status_request", StatusRequest{DeployConfig: "{}", Environment: "prod", PriorState: "s"}},
		{"status_response_min", StatusResponse{Status: "not_deployed"}},
		{"status_response_full", StatusResponse{Status: "degraded", Resources: []ResourceStatus{
			{Type: "t", Name: "n", Status: "unhealthy", Detail: "d", Links: link},
		}, State: "s", Links: link}},
		{"import_request", ImportRequest{ResourceType: "t", ResourceName: "n", Identifier: "id", DeployConfig: "{}"}},
		{"import_response", ImportResponse{Resource: ResourceStatus{Type: "t", Name: "n", Status: "healthy"}, State: "s"}},
		{"saved_plan", NewSavedPlan("omnia", "production", "sha256:00ff", &PlanResponse{
			Changes: []ResourceChange{{Type: "agent_runtime", Name: "support", Action: ActionCreate, Detail: "new runtime"}},
			Summary: "1 to create",
		}, &PlanRequest{PackJSON: `{"id":"p"}`, DeployConfig: `{"region":"eu"}`, Environment: "production"})},
		{"state_min", NewState("omnia", "production", "1.0.0", "sha256:00ff", "1.4.0")},
		{"state_full", &State{Version: 1, Provider: "omnia", Environment: "production", LastDeployed: "2026-11-27T09:30:00Z",
			PackVersion: "1.0.0", PackChecksum: "sha256:00ff", AdapterVersion: "1.4.0", LastRefreshed: "2026-11-27T10:00:00Z", State: "b3BhcXVl"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MarshalFile(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".json", append(got, '\n'))
		})
	}
}

// TestCLIFilesRoundTrip reads files shaped exactly as the promptarena CLI
// writes them and writes them back byte for byte.
func TestCLIFilesRoundTrip(t *testing.T) {
	for _, name := range []string{"cli_deploy.plan", "cli_deploy.state"} {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			var v any = &SavedPlan{}
			if name == "cli_deploy.state" {
				v = &State{}
			}
			dec := json.NewDecoder(bytesReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(v); err != nil {
				t.Fatalf("a CLI file has a field we do not know: %v", err)
			}
			out, err := MarshalFile(v)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != string(raw) {
				t.Errorf("round trip changed the file\n--- got\n%s\n--- want\n%s", out, raw)
			}
		})
	}
}

func TestComputePackChecksum(t *testing.T) {
	got := ComputePackChecksum([]byte("abc"))
	want := "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if AdapterBinaryName("omnia") != "promptarena-deploy-omnia" {
		t.Error("binary name")
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
