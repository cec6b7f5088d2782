// Package preview makes a pull request's preview environment: its name
// (pr-<number>, a target of its own, with its own state and lock, which no
// merge deploys) and its deploy config, from the arena file's template
// environment with the pull request's number filled in.
package preview

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
)

// DefaultTemplate is the environment of deploy.environments a preview's
// config comes from.
const DefaultTemplate = "preview"

// Placeholder is replaced by the pull request's number in every string of
// the template's config.
const Placeholder = "{pr}"

// ErrNoTemplate is matched when the arena file lists no template
// environment: previews would deploy with the base config, which names the
// same resources as another environment.
var ErrNoTemplate = errors.New("no preview template")

// Env is the preview environment of pull request n.
func Env(n int) string { return "pr-" + strconv.Itoa(n) }

// IsEnv says whether env is a preview's (pr-<number>).
func IsEnv(env string) bool {
	n, ok := strings.CutPrefix(env, "pr-")
	if !ok || n == "" {
		return false
	}
	_, err := strconv.Atoi(n)
	return err == nil
}

// Config is the preview's deploy config for pull request n: the base
// config merged with the template environment's, Placeholder replaced by
// n in every string, keys included. named says whether any value held the
// placeholder: without it, every preview gets the same config.
func Config(d *deploy.DeploySection, template string, n int) (cfg map[string]any, named bool, err error) {
	if _, ok := d.Environments[template]; !ok || template == deploy.DefaultEnvironment {
		return nil, false, fmt.Errorf("%w: deploy.environments has no %q environment; add it with the config a preview deploys with, "+
			"naming the pull request by %s (e.g. target_dir: \".deployed/pr-%s\"), or set preview-environment", ErrNoTemplate, template, Placeholder, Placeholder)
	}
	num := strconv.Itoa(n)
	out := fill(d.MergedConfig(template), num, &named)
	return out.(map[string]any), named, nil
}

// IsTemplate says whether env's config names the pull request
// (Placeholder in any string of it, keys included): a preview template,
// which only command preview deploys, with the number filled in. Deployed
// as an environment of its own, its names would hold "{pr}".
func IsTemplate(d *deploy.DeploySection, env string) bool {
	named := false
	fill(d.MergedConfig(env), "", &named)
	return named
}

func fill(v any, num string, named *bool) any {
	switch t := v.(type) {
	case string:
		if strings.Contains(t, Placeholder) {
			*named = true
			return strings.ReplaceAll(t, Placeholder, num)
		}
		return t
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, val := range t {
			out[fill(k, num, named).(string)] = fill(val, num, named)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, val := range t {
			out[i] = fill(val, num, named)
		}
		return out
	}
	return v
}
