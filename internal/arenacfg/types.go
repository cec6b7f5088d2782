package arenacfg

// The types below mirror PromptKit's pkg/config (v1.3.5) field for field:
// same JSON and YAML names, same Go kinds, same omitempty, so the JSON they
// encode is what PromptKit's loader would send and adapters built on
// PromptKit's SDK decode it unchanged. Where PromptKit's type lives in a
// package this project cannot mirror exactly (prompt specs, assertions,
// pack evals, personas), the value is carried as written in the YAML
// (Raw); values PromptKit computes from those types are left out.

// Raw is a value carried as the YAML wrote it.
type Raw = any

// ObjectMeta is the metadata of a manifest.
type ObjectMeta struct {
	Name        string            `yaml:"name,omitempty" json:"name,omitempty"`
	Namespace   string            `yaml:"namespace,omitempty" json:"namespace,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty" json:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty" json:"annotations,omitempty"`
}

// PromptConfigRef references a prompt configuration file.
type PromptConfigRef struct {
	ID   string            `yaml:"id" json:"id"`
	File string            `yaml:"file" json:"file"`
	Vars map[string]string `yaml:"vars,omitempty" json:"vars,omitempty"`
}

// Config is PromptKit's loaded arena Config: the spec as written plus the
// resources it references, loaded. arena_config is its JSON.
type Config struct {
	PromptConfigs  []PromptConfigRef `yaml:"prompt_configs,omitempty" json:"prompt_configs,omitempty"`
	Providers      []ProviderRef     `yaml:"providers" json:"providers"`
	Judges         []JudgeRef        `yaml:"judges,omitempty" json:"judges,omitempty"`
	JudgeDefaults  *JudgeDefaults    `yaml:"judge_defaults,omitempty" json:"judge_defaults,omitempty"`
	Scenarios      []ScenarioRef     `yaml:"scenarios,omitempty" json:"scenarios,omitempty"`
	Evals          []EvalRef         `yaml:"evals,omitempty" json:"evals,omitempty"`
	Tools          []ToolRef         `yaml:"tools,omitempty" json:"tools,omitempty"`
	PackEvals      []Raw             `yaml:"pack_evals,omitempty" json:"pack_evals,omitempty"`
	PackAssertions []Raw             `yaml:"pack_assertions,omitempty" json:"pack_assertions,omitempty"`
	Workflow       Raw               `yaml:"workflow,omitempty" json:"workflow,omitempty"`
	Agents         Raw               `yaml:"agents,omitempty" json:"agents,omitempty"`
	Deploy         *DeployConfig     `yaml:"deploy,omitempty" json:"deploy,omitempty"`
	MCPServers     []MCPServerConfig `yaml:"mcp_servers,omitempty" json:"mcp_servers,omitempty"`
	A2AAgents      []A2AAgentConfig  `yaml:"a2a_agents,omitempty" json:"a2a_agents,omitempty"`
	StateStore     *StateStoreConfig `yaml:"state_store,omitempty" json:"state_store,omitempty"`
	Defaults       Defaults          `yaml:"defaults" json:"defaults"`
	SelfPlay       *SelfPlayConfig   `yaml:"self_play,omitempty" json:"self_play,omitempty"`
	PackFile       string            `yaml:"pack_file,omitempty" json:"pack_file,omitempty"`

	ProviderSpecs map[string]*Provider  `yaml:"provider_specs,omitempty" json:"provider_specs,omitempty"`
	ScenarioSpecs map[string]*Scenario  `yaml:"scenario_specs,omitempty" json:"scenario_specs,omitempty"`
	EvalSpecs     map[string]*Eval      `yaml:"eval_specs,omitempty" json:"eval_specs,omitempty"`
	ToolSpecs     map[string]*ToolSpec  `yaml:"tool_specs,omitempty" json:"tool_specs,omitempty"`
	JudgeSpecs    map[string]*JudgeSpec `yaml:"judge_specs,omitempty" json:"judge_specs,omitempty"`
	PromptSpecs   map[string]Raw        `yaml:"prompt_specs,omitempty" json:"prompt_specs,omitempty"`

	ProviderGroups       map[string]string   `yaml:"-" json:"provider_groups,omitempty"`
	ProviderCapabilities map[string][]string `yaml:"-" json:"provider_capabilities,omitempty"`

	LoadedPromptConfigs map[string]*PromptConfigData `yaml:"-" json:"loaded_prompt_configs,omitempty"`
	LoadedProviders     map[string]*Provider         `yaml:"-" json:"loaded_providers,omitempty"`
	LoadedJudges        map[string]*JudgeTarget      `yaml:"-" json:"loaded_judges,omitempty"`
	LoadedScenarios     map[string]*Scenario         `yaml:"-" json:"loaded_scenarios,omitempty"`
	LoadedEvals         map[string]*Eval             `yaml:"-" json:"loaded_evals,omitempty"`
	LoadedTools         []ToolData                   `yaml:"-" json:"loaded_tools,omitempty"`
	// loaded_personas and loaded_pack are not produced: their PromptKit
	// types (UserPersonaPack, prompt.Pack) are not mirrored, and the pack
	// travels as pack_json anyway.
}

// MCPServerConfig configures an MCP server.
type MCPServerConfig struct {
	Name    string            `yaml:"name" json:"name"`
	Command string            `yaml:"command" json:"command"`
	Args    []string          `yaml:"args,omitempty" json:"args,omitempty"`
	Env     map[string]string `yaml:"env,omitempty" json:"env,omitempty"`
}

// A2AAgentConfig defines a mock A2A agent.
type A2AAgentConfig struct {
	Name      string            `yaml:"name" json:"name"`
	Card      A2ACardConfig     `yaml:"card" json:"card"`
	Responses []A2AResponseRule `yaml:"responses" json:"responses"`
}

// A2ACardConfig is a mock agent's card.
type A2ACardConfig struct {
	Name        string           `yaml:"name" json:"name"`
	Description string           `yaml:"description" json:"description"`
	Skills      []A2ASkillConfig `yaml:"skills" json:"skills"`
}

// A2ASkillConfig is one skill of a card.
type A2ASkillConfig struct {
	ID          string   `yaml:"id" json:"id"`
	Name        string   `yaml:"name" json:"name"`
	Description string   `yaml:"description" json:"description"`
	Tags        []string `yaml:"tags,omitempty" json:"tags,omitempty"`
}

// A2AResponseRule is a response rule of a mock agent.
type A2AResponseRule struct {
	Skill    string             `yaml:"skill" json:"skill"`
	Match    *A2AMatchConfig    `yaml:"match,omitempty" json:"match,omitempty"`
	Response *A2AResponseConfig `yaml:"response,omitempty" json:"response,omitempty"`
	Error    string             `yaml:"error,omitempty" json:"error,omitempty"`
}

// A2AMatchConfig matches incoming messages.
type A2AMatchConfig struct {
	Contains string `yaml:"contains,omitempty" json:"contains,omitempty"`
	Regex    string `yaml:"regex,omitempty" json:"regex,omitempty"`
}

// A2AResponseConfig is a response's parts.
type A2AResponseConfig struct {
	Parts []A2APartConfig `yaml:"parts" json:"parts"`
}

// A2APartConfig is one response part.
type A2APartConfig struct {
	Text string `yaml:"text" json:"text"`
}

// StateStoreConfig configures conversation state storage.
type StateStoreConfig struct {
	Type  string       `yaml:"type" json:"type"`
	Redis *RedisConfig `yaml:"redis,omitempty" json:"redis,omitempty"`
}

// RedisConfig configures Redis.
type RedisConfig struct {
	Address  string `yaml:"address" json:"address"`
	Password string `yaml:"password,omitempty" json:"password,omitempty"`
	Database int    `yaml:"database,omitempty" json:"database,omitempty"`
	TTL      string `yaml:"ttl,omitempty" json:"ttl,omitempty"`
	Prefix   string `yaml:"prefix,omitempty" json:"prefix,omitempty"`
}

// DeployConfig is the deploy section.
type DeployConfig struct {
	Provider     string                        `yaml:"provider" json:"provider"`
	Config       map[string]any                `yaml:"config,omitempty" json:"config,omitempty"`
	Environments map[string]*DeployEnvironment `yaml:"environments,omitempty" json:"environments,omitempty"`
}

// DeployEnvironment is one environment's override.
type DeployEnvironment struct {
	Config map[string]any `yaml:"config,omitempty" json:"config,omitempty"`
}

// PromptConfigData is a loaded prompt configuration. PromptKit also sends
// the parsed prompt.Config under "config"; that type is not mirrored, so
// the field is left out rather than approximated.
type PromptConfigData struct {
	FilePath string            `json:"file_path,omitempty"`
	TaskType string            `json:"task_type,omitempty"`
	Vars     map[string]string `json:"vars,omitempty"`
}

// ToolData is a tool file's bytes: []byte, so base64 in JSON, as in
// PromptKit (the SDK's ExtractToolInfo decodes it so).
type ToolData struct {
	FilePath string `json:"file_path,omitempty"`
	Data     []byte `json:"data,omitempty"`
}

// ProviderRef references a provider file.
type ProviderRef struct {
	File  string `yaml:"file" json:"file"`
	Group string `yaml:"group,omitempty" json:"group,omitempty"`
}

// JudgeRef maps a judge to a provider.
type JudgeRef struct {
	Name     string `yaml:"name" json:"name"`
	Provider string `yaml:"provider" json:"provider"`
	Model    string `yaml:"model,omitempty" json:"model,omitempty"`
}

// JudgeSpec is an inline judge.
type JudgeSpec struct {
	Provider string `yaml:"provider" json:"provider"`
	Model    string `yaml:"model,omitempty" json:"model,omitempty"`
}

// JudgeTarget is a resolved judge.
type JudgeTarget struct {
	Name     string    `json:"name"`
	Provider *Provider `json:"provider,omitempty"`
	Model    string    `json:"model"`
}

// JudgeDefaults configures default judge prompts.
type JudgeDefaults struct {
	Prompt         string `yaml:"prompt,omitempty" json:"prompt,omitempty"`
	PromptRegistry string `yaml:"prompt_registry,omitempty" json:"prompt_registry,omitempty"`
}

// ScenarioRef references a scenario file.
type ScenarioRef struct {
	File string `yaml:"file" json:"file"`
}

// EvalRef references an eval file.
type EvalRef struct {
	File string `yaml:"file" json:"file"`
}

// ToolRef references a tool file.
type ToolRef struct {
	File string `yaml:"file" json:"file"`
}

// SelfPlayConfig configures self-play. Persona specs are carried as
// written (UserPersonaPack is not mirrored).
type SelfPlayConfig struct {
	Enabled      bool                `yaml:"enabled" json:"enabled"`
	Personas     []PersonaRef        `yaml:"personas" json:"personas"`
	PersonaSpecs map[string]Raw      `yaml:"persona_specs,omitempty" json:"persona_specs,omitempty"`
	Roles        []SelfPlayRoleGroup `yaml:"roles" json:"roles"`
}

// PersonaRef references a persona file.
type PersonaRef struct {
	File string `yaml:"file" json:"file"`
}

// SelfPlayRoleGroup maps a self-play role to a provider.
type SelfPlayRoleGroup struct {
	ID       string `yaml:"id" json:"id"`
	Provider string `yaml:"provider" json:"provider"`
}

// Defaults are the arena's default settings.
type Defaults struct {
	Temperature    float32         `yaml:"temperature,omitempty" json:"temperature,omitempty"`
	MaxTokens      int             `yaml:"max_tokens,omitempty" json:"max_tokens,omitempty"`
	Seed           int             `yaml:"seed,omitempty" json:"seed,omitempty"`
	Concurrency    int             `yaml:"concurrency,omitempty" json:"concurrency,omitempty"`
	Output         OutputConfig    `yaml:"output,omitempty" json:"output,omitempty"`
	ConfigDir      string          `yaml:"config_dir,omitempty" json:"config_dir,omitempty"`
	FailOn         []string        `yaml:"fail_on,omitempty" json:"fail_on,omitempty"`
	Verbose        bool            `yaml:"verbose,omitempty" json:"verbose,omitempty"`
	HTMLReport     string          `yaml:"html_report,omitempty" json:"html_report,omitempty"`
	OutDir         string          `yaml:"out_dir,omitempty" json:"out_dir,omitempty"`
	OutputFormats  []string        `yaml:"output_formats,omitempty" json:"output_formats,omitempty"`
	MarkdownConfig *MarkdownConfig `yaml:"markdown_config,omitempty" json:"markdown_config,omitempty"`
}

// OutputConfig configures the arena's outputs.
type OutputConfig struct {
	Dir       string                `yaml:"dir" json:"dir,omitempty"`
	Formats   []string              `yaml:"formats" json:"formats,omitempty"`
	JSON      *JSONOutputConfig     `yaml:"json,omitempty" json:"json,omitempty"`
	HTML      *HTMLOutputConfig     `yaml:"html,omitempty" json:"html,omitempty"`
	Markdown  *MarkdownOutputConfig `yaml:"markdown,omitempty" json:"markdown,omitempty"`
	JUnit     *JUnitOutputConfig    `yaml:"junit,omitempty" json:"junit,omitempty"`
	Recording *RecordingConfig      `yaml:"recording,omitempty" json:"recording,omitempty"`
}

// JSONOutputConfig has no options yet.
type JSONOutputConfig struct{}

// HTMLOutputConfig configures the HTML report.
type HTMLOutputConfig struct {
	File string `yaml:"file,omitempty" json:"file,omitempty"`
}

// MarkdownOutputConfig configures the Markdown report.
type MarkdownOutputConfig struct {
	File              string `yaml:"file,omitempty" json:"file,omitempty"`
	IncludeDetails    bool   `yaml:"include_details" json:"include_details"`
	ShowOverview      bool   `yaml:"show_overview" json:"show_overview"`
	ShowResultsMatrix bool   `yaml:"show_results_matrix" json:"show_results_matrix"`
	ShowFailedTests   bool   `yaml:"show_failed_tests" json:"show_failed_tests"`
	ShowCostSummary   bool   `yaml:"show_cost_summary" json:"show_cost_summary"`
}

// JUnitOutputConfig configures the JUnit report.
type JUnitOutputConfig struct {
	File string `yaml:"file,omitempty" json:"file,omitempty"`
}

// RecordingConfig configures session recording.
type RecordingConfig struct {
	Enabled bool   `yaml:"enabled" json:"enabled"`
	Dir     string `yaml:"dir,omitempty" json:"dir,omitempty"`
}

// MarkdownConfig is the deprecated Markdown configuration.
type MarkdownConfig struct {
	IncludeDetails    bool `yaml:"include_details" json:"include_details"`
	ShowOverview      bool `yaml:"show_overview" json:"show_overview"`
	ShowResultsMatrix bool `yaml:"show_results_matrix" json:"show_results_matrix"`
	ShowFailedTests   bool `yaml:"show_failed_tests" json:"show_failed_tests"`
	ShowCostSummary   bool `yaml:"show_cost_summary" json:"show_cost_summary"`
}

// ContextMetadata is a scenario's context.
type ContextMetadata struct {
	Domain       string `json:"domain,omitempty" yaml:"domain,omitempty"`
	UserRole     string `json:"user_role,omitempty" yaml:"user_role,omitempty"`
	ProjectStage string `json:"project_stage,omitempty" yaml:"project_stage,omitempty"`
}

// Scenario is a conversation or workflow scenario.
type Scenario struct {
	ID                     string            `json:"id,omitempty" yaml:"id,omitempty"`
	TaskType               string            `json:"task_type,omitempty" yaml:"task_type,omitempty"`
	Mode                   string            `json:"mode,omitempty" yaml:"mode,omitempty"`
	Description            string            `json:"description" yaml:"description"`
	ContextMetadata        *ContextMetadata  `json:"context_metadata,omitempty" yaml:"context_metadata,omitempty"`
	Turns                  []TurnDefinition  `json:"turns,omitempty" yaml:"turns,omitempty"`
	Context                map[string]any    `json:"context,omitempty" yaml:"context,omitempty"`
	Constraints            map[string]any    `json:"constraints,omitempty" yaml:"constraints,omitempty"`
	ToolPolicy             *ToolPolicy       `json:"tool_policy,omitempty" yaml:"tool_policy,omitempty"`
	Providers              []string          `json:"providers,omitempty" yaml:"providers,omitempty"`
	ProviderGroup          string            `json:"provider_group,omitempty" yaml:"provider_group,omitempty"`
	RequiredCapabilities   []string          `json:"required_capabilities,omitempty" yaml:"required_capabilities,omitempty"`
	Streaming              bool              `json:"streaming,omitempty" yaml:"streaming,omitempty"`
	ContextPolicy          *ContextPolicy    `json:"context_policy,omitempty" yaml:"context_policy,omitempty"`
	ConversationAssertions []Raw             `json:"conversation_assertions,omitempty" yaml:"conversation_assertions,omitempty"`
	Duplex                 *DuplexConfig     `json:"duplex,omitempty" yaml:"duplex,omitempty"`
	Pack                   string            `json:"pack,omitempty" yaml:"pack,omitempty"`
	Steps                  []WorkflowStep    `json:"steps,omitempty" yaml:"steps,omitempty"`
	ContextCarryForward    bool              `json:"context_carry_forward,omitempty" yaml:"context_carry_forward,omitempty"`
	Variables              map[string]string `json:"variables,omitempty" yaml:"variables,omitempty"`
}

// WorkflowStep is one input of a workflow scenario.
type WorkflowStep struct {
	Type       string `json:"type" yaml:"type"`
	Content    string `json:"content,omitempty" yaml:"content,omitempty"`
	Assertions []Raw  `json:"assertions,omitempty" yaml:"assertions,omitempty"`
}

// ContextPolicy manages context for long conversations.
type ContextPolicy struct {
	TokenBudget      int              `json:"token_budget,omitempty" yaml:"token_budget,omitempty"`
	ReserveForOutput int              `json:"reserve_for_output,omitempty" yaml:"reserve_for_output,omitempty"`
	Strategy         string           `json:"strategy,omitempty" yaml:"strategy,omitempty"`
	CacheBreakpoints bool             `json:"cache_breakpoints,omitempty" yaml:"cache_breakpoints,omitempty"`
	Relevance        *RelevanceConfig `json:"relevance,omitempty" yaml:"relevance,omitempty"`
}

// RelevanceConfig configures relevance truncation.
type RelevanceConfig struct {
	Provider             string  `json:"provider" yaml:"provider"`
	Model                string  `json:"model,omitempty" yaml:"model,omitempty"`
	MinRecentMessages    int     `json:"min_recent_messages,omitempty" yaml:"min_recent_messages,omitempty"`
	AlwaysKeepSystemRole *bool   `json:"always_keep_system_role,omitempty" yaml:"always_keep_system_role,omitempty"`
	SimilarityThreshold  float64 `json:"similarity_threshold,omitempty" yaml:"similarity_threshold,omitempty"`
	QuerySource          string  `json:"query_source,omitempty" yaml:"query_source,omitempty"`
	LastNCount           int     `json:"last_n_count,omitempty" yaml:"last_n_count,omitempty"`
	CustomQuery          string  `json:"custom_query,omitempty" yaml:"custom_query,omitempty"`
	CacheEmbeddings      bool    `json:"cache_embeddings,omitempty" yaml:"cache_embeddings,omitempty"`
}

// ToolPolicy constrains tool use in a scenario; the SDK's
// ExtractToolPolicies reads its blocklist.
type ToolPolicy struct {
	ToolChoice          string   `json:"tool_choice" yaml:"tool_choice"`
	MaxToolCallsPerTurn int      `json:"max_tool_calls_per_turn" yaml:"max_tool_calls_per_turn"`
	MaxTotalToolCalls   int      `json:"max_total_tool_calls" yaml:"max_total_tool_calls"`
	Blocklist           []string `json:"blocklist,omitempty" yaml:"blocklist,omitempty"`
}

// DuplexConfig configures duplex streaming.
type DuplexConfig struct {
	Timeout       string                  `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	TurnDetection *TurnDetectionConfig    `json:"turn_detection,omitempty" yaml:"turn_detection,omitempty"`
	Resilience    *DuplexResilienceConfig `json:"resilience,omitempty" yaml:"resilience,omitempty"`
}

// DuplexResilienceConfig configures duplex retries.
type DuplexResilienceConfig struct {
	MaxRetries               int   `json:"max_retries,omitempty" yaml:"max_retries,omitempty"`
	RetryDelayMs             int   `json:"retry_delay_ms,omitempty" yaml:"retry_delay_ms,omitempty"`
	InterTurnDelayMs         int   `json:"inter_turn_delay_ms,omitempty" yaml:"inter_turn_delay_ms,omitempty"`
	SelfplayInterTurnDelayMs int   `json:"selfplay_inter_turn_delay_ms,omitempty" yaml:"selfplay_inter_turn_delay_ms,omitempty"`
	PartialSuccessMinTurns   int   `json:"partial_success_min_turns,omitempty" yaml:"partial_success_min_turns,omitempty"`
	IgnoreLastTurnSessionEnd *bool `json:"ignore_last_turn_session_end,omitempty" yaml:"ignore_last_turn_session_end,omitempty"`
}

// TurnDetectionConfig configures turn detection.
type TurnDetectionConfig struct {
	Mode string     `json:"mode,omitempty" yaml:"mode,omitempty"`
	VAD  *VADConfig `json:"vad,omitempty" yaml:"vad,omitempty"`
}

// VADConfig configures voice activity detection.
type VADConfig struct {
	SilenceThresholdMs int `json:"silence_threshold_ms,omitempty" yaml:"silence_threshold_ms,omitempty"`
	MinSpeechMs        int `json:"min_speech_ms,omitempty" yaml:"min_speech_ms,omitempty"`
	MaxTurnDurationS   int `json:"max_turn_duration_s,omitempty" yaml:"max_turn_duration_s,omitempty"`
}

// TTSConfig configures text-to-speech for self-play.
type TTSConfig struct {
	Provider   string   `json:"provider" yaml:"provider"`
	Voice      string   `json:"voice" yaml:"voice"`
	AudioFiles []string `json:"audio_files,omitempty" yaml:"audio_files,omitempty"`
	SampleRate int      `json:"sample_rate,omitempty" yaml:"sample_rate,omitempty"`
}

// TurnDefinition is one scenario turn.
type TurnDefinition struct {
	Role          string            `json:"role" yaml:"role"`
	Content       string            `json:"content,omitempty" yaml:"content,omitempty"`
	Parts         []TurnContentPart `json:"parts,omitempty" yaml:"parts,omitempty"`
	Persona       string            `json:"persona,omitempty" yaml:"persona,omitempty"`
	Turns         int               `json:"turns,omitempty" yaml:"turns,omitempty"`
	AssistantTemp float32           `json:"assistant_temp,omitempty" yaml:"assistant_temp,omitempty"`
	UserTemp      float32           `json:"user_temp,omitempty" yaml:"user_temp,omitempty"`
	Seed          int               `json:"seed,omitempty" yaml:"seed,omitempty"`
	TTS           *TTSConfig        `json:"tts,omitempty" yaml:"tts,omitempty"`
	Streaming     *bool             `json:"streaming,omitempty" yaml:"streaming,omitempty"`
	Assertions    []Raw             `json:"assertions,omitempty" yaml:"assertions,omitempty"`
}

// TurnContentPart is a multimodal part of a turn.
type TurnContentPart struct {
	Type  string            `json:"type" yaml:"type"`
	Text  string            `json:"text,omitempty" yaml:"text,omitempty"`
	Media *TurnMediaContent `json:"media,omitempty" yaml:"media,omitempty"`
}

// TurnMediaContent is a part's media.
type TurnMediaContent struct {
	FilePath         string `json:"file_path,omitempty" yaml:"file_path,omitempty"`
	URL              string `json:"url,omitempty" yaml:"url,omitempty"`
	Data             string `json:"data,omitempty" yaml:"data,omitempty"`
	StorageReference string `json:"storage_reference,omitempty" yaml:"storage_reference,omitempty"`
	MIMEType         string `json:"mime_type" yaml:"mime_type"`
	Detail           string `json:"detail,omitempty" yaml:"detail,omitempty"`
	Caption          string `json:"caption,omitempty" yaml:"caption,omitempty"`
}

// Provider is an LLM provider's configuration.
type Provider struct {
	ID               string            `json:"id,omitempty" yaml:"id,omitempty"`
	Type             string            `json:"type" yaml:"type"`
	Model            string            `json:"model" yaml:"model"`
	BaseURL          string            `json:"base_url,omitempty" yaml:"base_url,omitempty"`
	RateLimit        RateLimit         `json:"rate_limit,omitempty" yaml:"rate_limit,omitempty"`
	Defaults         ProviderDefaults  `json:"defaults,omitempty" yaml:"defaults,omitempty"`
	Pricing          Pricing           `json:"pricing,omitempty" yaml:"pricing,omitempty"`
	PricingCorrectAt string            `json:"pricing_correct_at,omitempty" yaml:"pricing_correct_at,omitempty"`
	IncludeRawOutput bool              `json:"include_raw_output,omitempty" yaml:"include_raw_output,omitempty"`
	AdditionalConfig map[string]any    `json:"additional_config,omitempty" yaml:"additional_config,omitempty"`
	Credential       *CredentialConfig `json:"credential,omitempty" yaml:"credential,omitempty"`
	Platform         *PlatformConfig   `json:"platform,omitempty" yaml:"platform,omitempty"`
	Capabilities     []string          `json:"capabilities,omitempty" yaml:"capabilities,omitempty"`
}

// CredentialConfig says how a provider gets its credentials.
type CredentialConfig struct {
	APIKey         string `json:"api_key,omitempty" yaml:"api_key,omitempty"`
	CredentialFile string `json:"credential_file,omitempty" yaml:"credential_file,omitempty"`
	CredentialEnv  string `json:"credential_env,omitempty" yaml:"credential_env,omitempty"`
}

// PlatformConfig is a hosting platform's settings.
type PlatformConfig struct {
	Type             string         `json:"type,omitempty" yaml:"type,omitempty"`
	Region           string         `json:"region,omitempty" yaml:"region,omitempty"`
	Project          string         `json:"project,omitempty" yaml:"project,omitempty"`
	Endpoint         string         `json:"endpoint,omitempty" yaml:"endpoint,omitempty"`
	AdditionalConfig map[string]any `json:"additional_config,omitempty" yaml:"additional_config,omitempty"`
}

// Pricing is the cost per 1K tokens.
type Pricing struct {
	InputCostPer1K  float64 `json:"input_cost_per_1k" yaml:"input_cost_per_1k"`
	OutputCostPer1K float64 `json:"output_cost_per_1k" yaml:"output_cost_per_1k"`
}

// RateLimit limits a provider's request rate.
type RateLimit struct {
	RPS   int `json:"rps" yaml:"rps"`
	Burst int `json:"burst" yaml:"burst"`
}

// ProviderDefaults are a provider's default parameters.
type ProviderDefaults struct {
	Temperature float32 `json:"temperature" yaml:"temperature"`
	TopP        float32 `json:"top_p" yaml:"top_p"`
	MaxTokens   int     `json:"max_tokens" yaml:"max_tokens"`
}

// ToolConfigSchema is a tool manifest; inline tool specs are marshaled to
// YAML in this shape for loaded_tools, as PromptKit does.
type ToolConfigSchema struct {
	APIVersion string     `yaml:"apiVersion" json:"apiVersion"`
	Kind       string     `yaml:"kind" json:"kind"`
	Metadata   ObjectMeta `yaml:"metadata,omitempty" json:"metadata,omitempty"`
	Spec       ToolSpec   `yaml:"spec" json:"spec"`
}

// ToolSpec describes a tool.
type ToolSpec struct {
	Name         string      `json:"name,omitempty" yaml:"name,omitempty"`
	Description  string      `json:"description" yaml:"description"`
	InputSchema  any         `json:"input_schema" yaml:"input_schema"`
	OutputSchema any         `json:"output_schema" yaml:"output_schema"`
	Mode         string      `json:"mode" yaml:"mode"`
	TimeoutMs    int         `json:"timeout_ms,omitempty" yaml:"timeout_ms,omitempty"`
	MockResult   any         `json:"mock_result,omitempty" yaml:"mock_result,omitempty"`
	MockTemplate string      `json:"mock_template,omitempty" yaml:"mock_template,omitempty"`
	HTTPConfig   *HTTPConfig `json:"http,omitempty" yaml:"http,omitempty"`
}

// HTTPConfig configures a live HTTP tool.
type HTTPConfig struct {
	URL            string            `json:"url" yaml:"url"`
	Method         string            `json:"method" yaml:"method"`
	HeadersFromEnv []string          `json:"headers_from_env,omitempty" yaml:"headers_from_env,omitempty"`
	TimeoutMs      int               `json:"timeout_ms" yaml:"timeout_ms"`
	Redact         []string          `json:"redact,omitempty" yaml:"redact,omitempty"`
	Headers        map[string]string `json:"headers,omitempty" yaml:"headers,omitempty"`
}

// Eval replays and checks a saved conversation.
type Eval struct {
	ID                     string           `json:"id,omitempty" yaml:"id,omitempty"`
	Description            string           `json:"description" yaml:"description"`
	Recording              RecordingSource  `json:"recording" yaml:"recording"`
	Turns                  []EvalTurnConfig `json:"turns,omitempty" yaml:"turns,omitempty"`
	ConversationAssertions []Raw            `json:"conversation_assertions,omitempty" yaml:"conversation_assertions,omitempty"`
	Tags                   []string         `json:"tags,omitempty" yaml:"tags,omitempty"`
	Mode                   string           `json:"mode,omitempty" yaml:"mode,omitempty"`
	Speed                  float64          `json:"speed,omitempty" yaml:"speed,omitempty"`
}

// EvalTurnConfig configures turn-level assertions of an eval.
type EvalTurnConfig struct {
	AllTurns *EvalAllTurnsConfig `json:"all_turns,omitempty" yaml:"all_turns,omitempty"`
}

// EvalAllTurnsConfig holds assertions for all turns.
type EvalAllTurnsConfig struct {
	Assertions []Raw `json:"assertions,omitempty" yaml:"assertions,omitempty"`
}

// RecordingSource locates a saved conversation.
type RecordingSource struct {
	Path string `json:"path" yaml:"path"`
	Type string `json:"type,omitempty" yaml:"type,omitempty"`
}
