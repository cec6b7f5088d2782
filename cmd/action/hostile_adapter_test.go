package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy/adaptersdk"
)

// The hostile adapter: the test binary re-executed with
// ARENA_HOSTILE_ADAPTER=1. It echoes everything it knows (every value of
// the deploy config, the variables named in HOSTILE_ECHO_ENV, the pack's
// prompt names) together with workflow commands, Markdown steering and
// bidi tricks, in every field of every answer and in its stderr, as an
// adapter that is careless or compromised could.

// hostilePayload tries each kind of workflow command and Markdown trick.
// PWNED follows each line break, as reporttest.Injected expects.
var hostilePayload = "x\n::error title=PWNED::cmd\r::add-mask::PWNED\r\n::stop-commands::PWNED\n##[set-env name=PWNED;]v" +
	" #1 octo/app#2 GH-3 @admins \u202egnp.exe [click](https://evil.test)"

func runHostileAdapter() {
	if p := os.Getenv("HOSTILE_PAYLOAD"); p != "" {
		hostilePayload = p
	}
	p := &hostile{echoEnv: strings.Split(os.Getenv("HOSTILE_ECHO_ENV"), ",")}
	fmt.Fprintln(os.Stderr, "starting "+p.echo("")+" "+hostilePayload)
	err := adaptersdk.Serve(p)
	// A last stderr line without a newline must reach the log too.
	fmt.Fprint(os.Stderr, "exiting "+p.echo(""))
	if err != nil {
		os.Exit(1)
	}
}

type hostile struct{ echoEnv []string }

// echo is everything the adapter knows that might be secret.
func (h *hostile) echo(configJSON string) string {
	var parts []string
	var cfg any
	_ = json.Unmarshal([]byte(configJSON), &cfg)
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(t[k])
			}
		case []any:
			for _, x := range t {
				walk(x)
			}
		case string:
			parts = append(parts, t)
		}
	}
	walk(cfg)
	for _, name := range h.echoEnv {
		if v := os.Getenv(name); name != "" && v != "" {
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, " ")
}

// log writes what the adapter knows, raw (a multi-line secret goes out
// line by line) and as the JSON it received, with the payload.
func (h *hostile) log(method, configJSON string) {
	fmt.Fprintf(os.Stderr, "debug %s: %s\nconfig %s\n%s\n", method, h.echo(configJSON), configJSON, hostilePayload)
}

func (h *hostile) GetProviderInfo(context.Context) (*deploy.ProviderInfo, error) {
	return &deploy.ProviderInfo{Name: "hostile", Version: "1.0.0", Capabilities: []string{"plan", "apply", "status"}}, nil
}

func (h *hostile) ValidateConfig(_ context.Context, req *deploy.ValidateRequest) (*deploy.ValidateResponse, error) {
	h.log("validate", req.Config)
	return &deploy.ValidateResponse{Valid: true, Warnings: []string{"config echo: " + h.echo(req.Config) + " " + hostilePayload}}, nil
}

func promptNames(packJSON string) []string {
	var pack struct {
		Prompts map[string]json.RawMessage `json:"prompts"`
	}
	_ = json.Unmarshal([]byte(packJSON), &pack)
	var names []string
	for k := range pack.Prompts {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func (h *hostile) Plan(_ context.Context, req *deploy.PlanRequest) (*deploy.PlanResponse, error) {
	e := h.echo(req.DeployConfig)
	h.log("plan", req.DeployConfig)
	if os.Getenv("HOSTILE_FAIL") == "plan" {
		return nil, fmt.Errorf("cannot reach the backend with %s: %s", e, hostilePayload)
	}
	resp := &deploy.PlanResponse{Summary: "summary " + e + " " + hostilePayload, Warnings: []string{"plan warning " + e + " " + hostilePayload}}
	for _, n := range promptNames(req.PackJSON) {
		resp.Changes = append(resp.Changes, deploy.ResourceChange{Type: "prompt " + e, Name: n + " " + e + " " + hostilePayload, Action: deploy.ActionCreate, Detail: "detail " + e + " " + hostilePayload})
	}
	resp.Changes = append(resp.Changes, deploy.ResourceChange{Type: "t " + hostilePayload, Name: "unknown action", Action: deploy.Action("REPLACE " + e + " " + hostilePayload), Detail: e})
	return resp, nil
}

func (h *hostile) links(e string) []deploy.Link {
	return []deploy.Link{
		{Label: "console " + e + " " + hostilePayload, URL: "https://console.example.test/" + e + "\n| 🟢 | injected | row |"},
		{Label: "with user info", URL: "https://user:" + e + "@console.example.test/"},
		{Label: "plain", URL: "https://console.example.test/ok?x=(1)|2"},
	}
}

func (h *hostile) Apply(_ context.Context, req *deploy.PlanRequest, cb deploy.ApplyCallback) (string, error) {
	e := h.echo(req.DeployConfig)
	h.log("apply", req.DeployConfig)
	_ = cb(&deploy.ApplyEvent{Type: deploy.EventProgress, Message: "progress " + e + " " + hostilePayload})
	_ = cb(&deploy.ApplyEvent{Type: deploy.EventError, Message: "soft error " + e + " " + hostilePayload})
	for _, n := range promptNames(req.PackJSON) {
		_ = cb(&deploy.ApplyEvent{Type: deploy.EventResource, Resource: &deploy.ResourceResult{
			Type: "prompt " + e, Name: n + " " + e + " " + hostilePayload, Action: deploy.ActionCreate,
			Status: "created", Detail: "applied " + e + " " + hostilePayload, Links: h.links(e),
		}})
	}
	_ = cb(&deploy.ApplyEvent{Type: deploy.EventComplete, Message: "complete " + e + " " + hostilePayload})
	if os.Getenv("HOSTILE_STATE") == "secret" {
		return `{"deployed":true,"token":` + quote(e) + `}`, nil
	}
	return `{"deployed":true}`, nil
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func (h *hostile) Destroy(context.Context, *deploy.DestroyRequest, deploy.DestroyCallback) error {
	return nil
}

func (h *hostile) Status(_ context.Context, req *deploy.StatusRequest) (*deploy.StatusResponse, error) {
	e := h.echo(req.DeployConfig)
	h.log("status", req.DeployConfig)
	state := req.PriorState
	if os.Getenv("HOSTILE_STATE") == "refresh" {
		state = `{"deployed":true,"refreshed_token":` + quote(e) + `}`
	}
	return &deploy.StatusResponse{
		Status: "degraded", State: state, Links: h.links(e),
		Resources: []deploy.ResourceStatus{
			{Type: "prompt " + e, Name: "drifted " + e + " " + hostilePayload, Status: "unhealthy", Detail: "status " + e + " " + hostilePayload, Links: h.links(e)},
		},
	}, nil
}

func (h *hostile) Import(context.Context, *deploy.ImportRequest) (*deploy.ImportResponse, error) {
	return nil, fmt.Errorf("not supported")
}
