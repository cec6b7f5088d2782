// Package deploy implements the PromptKit deploy protocol: the wire types
// adapters speak, a JSON-RPC client that drives adapter binaries, adapter
// discovery, saved plans, deploy state, the deploy lock and the deploy
// section of arena.yaml. Field names follow PromptKit's deploy package v1.3.5
// exactly, so files written here are readable by the promptarena CLI.
package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Action is the kind of change planned for one resource.
type Action string

// The actions an adapter may plan. Unknown actions are shown, never dropped.
const (
	ActionCreate   Action = "CREATE"
	ActionUpdate   Action = "UPDATE"
	ActionDelete   Action = "DELETE"
	ActionNoChange Action = "NO_CHANGE"
	ActionDrift    Action = "DRIFT"
)

// Event types carried by ApplyEvent and DestroyEvent.
const (
	EventProgress = "progress"
	EventResource = "resource"
	EventError    = "error"
	EventComplete = "complete"
)

// Link is a URL an adapter reports for a resource or a deployment.
type Link struct {
	Label string `json:"label"`
	URL   string `json:"url"`
	Rel   string `json:"rel,omitempty"`
}

// ProviderInfo describes an adapter.
type ProviderInfo struct {
	Name         string   `json:"name"`
	Version      string   `json:"version"`
	Capabilities []string `json:"capabilities,omitempty"`
	ConfigSchema string   `json:"config_schema,omitempty"`
}

// ValidateRequest is the input of validate_config.
type ValidateRequest struct {
	Config string `json:"config"`
}

// ValidateResponse is the output of validate_config.
type ValidateResponse struct {
	Valid    bool     `json:"valid"`
	Errors   []string `json:"errors,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// PlanRequest is the input of plan and apply.
type PlanRequest struct {
	PackJSON     string `json:"pack_json"`
	DeployConfig string `json:"deploy_config"`
	ArenaConfig  string `json:"arena_config,omitempty"`
	Environment  string `json:"environment,omitempty"`
	PriorState   string `json:"prior_state,omitempty"`
}

// ResourceChange is one planned change.
type ResourceChange struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Action Action `json:"action"`
	Detail string `json:"detail,omitempty"`
}

// PlanResponse is the output of plan.
type PlanResponse struct {
	Changes  []ResourceChange `json:"changes"`
	Summary  string           `json:"summary"`
	Warnings []string         `json:"warnings,omitempty"`
}

// ResourceResult is the outcome of applying or destroying one resource.
type ResourceResult struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Action Action `json:"action"`
	Status string `json:"status"` // created, updated, deleted, failed
	Detail string `json:"detail,omitempty"`
	Links  []Link `json:"links,omitempty"`
}

// ApplyEvent is one event of an apply, replayed to an ApplyCallback in order.
type ApplyEvent struct {
	Type     string          `json:"type"`
	Message  string          `json:"message,omitempty"`
	Resource *ResourceResult `json:"resource,omitempty"`
}

// DestroyEvent is one event of a destroy.
type DestroyEvent struct {
	Type     string          `json:"type"`
	Message  string          `json:"message,omitempty"`
	Resource *ResourceResult `json:"resource,omitempty"`
}

// ApplyResponse is the wire result of apply. PromptKit's docs once named the
// state key "state"; the SDK sends "adapter_state". Both are accepted.
type ApplyResponse struct {
	AdapterState string       `json:"adapter_state,omitempty"`
	State        string       `json:"state,omitempty"`
	Events       []ApplyEvent `json:"events,omitempty"`
}

// DestroyRequest is the input of destroy.
type DestroyRequest struct {
	DeployConfig string `json:"deploy_config"`
	Environment  string `json:"environment,omitempty"`
	PriorState   string `json:"prior_state,omitempty"`
}

// DestroyResponse is the wire result of destroy.
type DestroyResponse struct {
	Status string         `json:"status,omitempty"`
	Events []DestroyEvent `json:"events,omitempty"`
}

// StatusRequest is the input of status.
type StatusRequest struct {
	DeployConfig string `json:"deploy_config"`
	Environment  string `json:"environment,omitempty"`
	PriorState   string `json:"prior_state,omitempty"`
}

// ResourceStatus is the health of one deployed resource.
type ResourceStatus struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Status string `json:"status"` // healthy, unhealthy, missing
	Detail string `json:"detail,omitempty"`
	Links  []Link `json:"links,omitempty"`
}

// StatusResponse is the output of status.
type StatusResponse struct {
	Status    string           `json:"status"` // deployed, not_deployed, degraded, unknown
	Resources []ResourceStatus `json:"resources,omitempty"`
	State     string           `json:"state,omitempty"`
	Links     []Link           `json:"links,omitempty"`
}

// ImportRequest is the input of import.
type ImportRequest struct {
	ResourceType string `json:"resource_type"`
	ResourceName string `json:"resource_name"`
	Identifier   string `json:"identifier"`
	DeployConfig string `json:"deploy_config"`
	Environment  string `json:"environment,omitempty"`
	PriorState   string `json:"prior_state,omitempty"`
}

// ImportResponse is the output of import.
type ImportResponse struct {
	Resource ResourceStatus `json:"resource"`
	State    string         `json:"state"`
}

// ApplyCallback receives each apply event in order.
type ApplyCallback func(event *ApplyEvent) error

// DestroyCallback receives each destroy event in order.
type DestroyCallback func(event *DestroyEvent) error

// Provider is what a deploy adapter implements, in process or over stdio.
type Provider interface {
	GetProviderInfo(ctx context.Context) (*ProviderInfo, error)
	ValidateConfig(ctx context.Context, req *ValidateRequest) (*ValidateResponse, error)
	Plan(ctx context.Context, req *PlanRequest) (*PlanResponse, error)
	Apply(ctx context.Context, req *PlanRequest, callback ApplyCallback) (adapterState string, err error)
	Destroy(ctx context.Context, req *DestroyRequest, callback DestroyCallback) error
	Status(ctx context.Context, req *StatusRequest) (*StatusResponse, error)
	Import(ctx context.Context, req *ImportRequest) (*ImportResponse, error)
}

// SavedPlanVersion and StateVersion are the file format versions we write
// and the newest we read.
const (
	SavedPlanVersion = 1
	StateVersion     = 1
)

// SavedPlan is the deploy.plan file: a plan and the request that made it.
type SavedPlan struct {
	Version      int           `json:"version"`
	CreatedAt    string        `json:"created_at"`
	Provider     string        `json:"provider"`
	Environment  string        `json:"environment"`
	PackChecksum string        `json:"pack_checksum"`
	Plan         *PlanResponse `json:"plan"`
	Request      *PlanRequest  `json:"request"`
}

// State is the deploy.state file: what the last deploy left behind.
type State struct {
	Version        int    `json:"version"`
	Provider       string `json:"provider"`
	Environment    string `json:"environment"`
	LastDeployed   string `json:"last_deployed"`
	PackVersion    string `json:"pack_version"`
	PackChecksum   string `json:"pack_checksum"`
	AdapterVersion string `json:"adapter_version"`
	LastRefreshed  string `json:"last_refreshed,omitempty"`
	State          string `json:"state,omitempty"`
}

// now is the clock of NewSavedPlan and NewState; tests replace it.
var now = func() time.Time { return time.Now().UTC() }

// NewSavedPlan returns a SavedPlan stamped with the current time.
func NewSavedPlan(provider, environment, packChecksum string, plan *PlanResponse, request *PlanRequest) *SavedPlan {
	return &SavedPlan{
		Version:      SavedPlanVersion,
		CreatedAt:    now().Format(time.RFC3339),
		Provider:     provider,
		Environment:  environment,
		PackChecksum: packChecksum,
		Plan:         plan,
		Request:      request,
	}
}

// NewState returns a State stamped with the current time as last_deployed.
func NewState(provider, environment, packVersion, packChecksum, adapterVersion string) *State {
	return &State{
		Version:        StateVersion,
		Provider:       provider,
		Environment:    environment,
		LastDeployed:   now().Format(time.RFC3339),
		PackVersion:    packVersion,
		PackChecksum:   packChecksum,
		AdapterVersion: adapterVersion,
	}
}

// ComputePackChecksum returns "sha256:" and the lowercase hex digest of data.
func ComputePackChecksum(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// AdapterBinaryName is the executable name of a provider's adapter.
func AdapterBinaryName(provider string) string {
	return "promptarena-deploy-" + provider
}
