package arenacfg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/mask"
)

// content are the sections that hold what a pack is made of: prompts,
// scenarios, tools, evals and the flows between them. Their keys are the
// user's words (a prompt's variables, a tool's parameters such as
// session_id, ids such as password-reset), so a secret-looking word there
// marks nothing: only a credential's shape (mask.Credentials) does.
var content = map[string]bool{
	"prompt_configs": true, "loaded_prompt_configs": true, "prompt_specs": true,
	"scenarios": true, "loaded_scenarios": true, "scenario_specs": true,
	"tools": true, "tool_specs": true, "evals": true, "loaded_evals": true, "eval_specs": true,
	"pack_evals": true, "pack_assertions": true, "workflow": true, "agents": true,
}

// idKeyed are the sections that are maps keyed by an id (a provider's, a
// judge's): the id is the user's name for it, never a secret's key, but
// the fields under it are the provider's config.
var idKeyed = map[string]bool{
	"provider_specs": true, "judge_specs": true, "provider_groups": true, "provider_capabilities": true,
	"loaded_providers": true, "loaded_judges": true,
}

// keyMarks says whether a secret-looking key at depth under the top-level
// section top marks its value secret.
func keyMarks(top string, depth int) bool {
	return !content[top] && !(idKeyed[top] && depth == 1)
}

// JSON encodes the config as arena_config with secrets redacted, and
// returns the secrets it found, for masking. The secrets are those
// mask.Redact finds (values under secret-looking keys, secret name/value
// pairs, URL credentials and tokens by their shape), except that in the
// content sections and for ids only a credential's shape or pair counts;
// a string holding one becomes its fingerprint anywhere, as everywhere
// else in the action. Numbers and booleans are
// redacted only under deploy, as the deploy config always was: elsewhere
// PromptKit types them (max_tokens, token_budget), and a fingerprint would
// break an adapter's decoding. Tool files travel as their bytes (base64),
// never altered. Field order and types stay PromptKit's.
func (c *Config) JSON() (string, []string, error) {
	raw, err := json.Marshal(c)
	if err != nil {
		return "", nil, fmt.Errorf("encode arena config: %w", err)
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return "", nil, fmt.Errorf("redact arena config: %w", err)
	}
	var found []string
	if m, ok := doc.(map[string]any); ok {
		delete(m, "loaded_tools") // opaque bytes: not searched, not changed
		for top, v := range m {
			switch {
			case content[top]:
				found = append(found, mask.Credentials(v)...)
				delete(m, top)
			case idKeyed[top]:
				// The ids dropped, the configs under them kept.
				if byID, ok := v.(map[string]any); ok {
					configs := make([]any, 0, len(byID))
					for _, c := range byID {
						configs = append(configs, c)
					}
					m[top] = configs
				}
			}
		}
	}
	_, rest := mask.Redact(doc)
	found = append(found, rest...)
	r := &redactor{dec: json.NewDecoder(bytes.NewReader(raw))}
	for _, f := range found {
		if len(f) >= 4 && f != "true" && f != "false" && f != "null" {
			r.known = append(r.known, f)
		}
	}
	r.dec.UseNumber()
	if err := r.value(false, false, 0, ""); err != nil {
		return "", nil, fmt.Errorf("redact arena config: %w", err)
	}
	return r.out.String(), found, nil
}

// redactor copies a JSON document token by token, redacting on the way, so
// the order of fields is kept.
type redactor struct {
	dec   *json.Decoder
	out   bytes.Buffer
	known []string // secret values: a string holding one is redacted
}

// value copies one value; secret says it is under a secret-looking key,
// all that numbers and booleans are redacted too (deploy), top the
// top-level key it is under.
func (r *redactor) value(secret, all bool, depth int, top string) error {
	tok, err := r.dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			r.out.WriteByte('{')
			for first := true; r.dec.More(); first = false {
				k, err := r.dec.Token()
				if err != nil {
					return err
				}
				key, _ := k.(string)
				if !first {
					r.out.WriteByte(',')
				}
				r.str(key)
				r.out.WriteByte(':')
				if depth == 0 {
					top = key
				}
				marks := keyMarks(top, depth) && mask.IsSecretKey(key)
				if err := r.value(secret || marks, all || top == "deploy", depth+1, top); err != nil {
					return err
				}
			}
			r.out.WriteByte('}')
		case '[':
			r.out.WriteByte('[')
			for first := true; r.dec.More(); first = false {
				if !first {
					r.out.WriteByte(',')
				}
				if err := r.value(secret, all, depth+1, top); err != nil {
					return err
				}
			}
			r.out.WriteByte(']')
		}
		_, err := r.dec.Token() // the closing delimiter
		if err != nil && err != io.EOF {
			return err
		}
	case string:
		if top != "loaded_tools" && (secret || r.holdsSecret(t)) {
			t = mask.Fingerprint(t)
		}
		r.str(t)
	case json.Number:
		if secret && all {
			r.str(mask.Fingerprint(t.String()))
			break
		}
		r.out.WriteString(t.String())
	case bool:
		if secret && all {
			r.str(mask.Fingerprint(fmt.Sprint(t)))
			break
		}
		fmt.Fprint(&r.out, t)
	case nil:
		r.out.WriteString("null")
	}
	return nil
}

func (r *redactor) holdsSecret(s string) bool {
	for _, k := range r.known {
		if strings.Contains(s, k) {
			return true
		}
	}
	return false
}

func (r *redactor) str(s string) {
	b, _ := json.Marshal(s)
	r.out.Write(b)
}
