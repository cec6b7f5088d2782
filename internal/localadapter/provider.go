// Package localadapter is the reference PromptKit deploy adapter: it
// deploys a pack's prompts as files into a directory, plans against what is
// really on disk (so out-of-band edits show as DRIFT), and serves the
// protocol through adaptersdk like any provider's adapter.
package localadapter

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"unsafe"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy/adaptersdk"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy/jsonwire"
)

// Resource types this adapter manages.
const (
	typePrompt = "prompt"
	typePack   = "pack"
)

// BinaryName is the adapter's executable name.
const BinaryName = "promptarena-deploy-local"

// Serve serves the adapter on stdin/stdout from the working directory.
func Serve(version string) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	return adaptersdk.Serve(&Provider{BaseDir: wd, Version: version})
}

// Provider deploys a pack into config.target_dir, relative to BaseDir.
type Provider struct {
	BaseDir string
	Version string
}

// config is the adapter's deploy_config.
type config struct {
	TargetDir string `json:"target_dir"`
	// ConsoleURL, when set, is reported as the deployment's "Console" link
	// (rel console): what a real adapter's console page would be.
	ConsoleURL string `json:"console_url,omitempty"`
}

// state is the adapter's opaque state: for each resource, where it was
// written and the digest of what was written.
type state struct {
	TargetDir  string                   `json:"target_dir"`
	CreatedDir bool                     `json:"created_dir,omitempty"`
	Resources  map[string]resourceState `json:"resources"`
}

type resourceState struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Path   string `json:"path"`   // relative to BaseDir
	Source string `json:"source"` // digest of the compacted pack JSON it came from
	SHA256 string `json:"sha256"` // digest of the file as written
}

// desired is one resource the pack asks for. Plans compare only the source
// digest; the file content is rendered when it is needed (apply, adoption).
// The source digest too is made when it is needed (source): a plan
// compares it only with a resource the prior state holds, and a first plan
// of 50,000 prompts hashed the whole pack and held 50,000 digests for
// nothing.
type desired struct {
	resourceState
	raw []byte
}

// source is the resource's source digest, made on first use.
func (d *desired) source() string {
	if d.Source == "" {
		d.Source = compactDigest(d.raw, sha256.New())
	}
	return d.Source
}

// content is the file as it is written to disk.
func (d *desired) content() []byte {
	b, err := indent(d.raw)
	if err != nil {
		return d.raw
	}
	return b
}

func key(typ, name string) string { return typ + "/" + name }

const configSchema = `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",` +
	`"required":["target_dir"],"properties":{"target_dir":{"type":"string","minLength":1,` +
	`"description":"directory the pack is deployed to, relative to the working directory"}},"additionalProperties":false}`

// GetProviderInfo implements deploy.Provider.
func (p *Provider) GetProviderInfo(context.Context) (*deploy.ProviderInfo, error) {
	return &deploy.ProviderInfo{
		Name:         "local",
		Version:      p.Version,
		Capabilities: []string{"plan", "apply", "destroy", "status", "import"},
		ConfigSchema: configSchema,
	}, nil
}

// ValidateConfig implements deploy.Provider.
func (p *Provider) ValidateConfig(_ context.Context, req *deploy.ValidateRequest) (*deploy.ValidateResponse, error) {
	var raw map[string]any
	if err := json.Unmarshal([]byte(req.Config), &raw); err != nil {
		return &deploy.ValidateResponse{Errors: []string{"config is not a JSON object: " + err.Error()}}, nil
	}
	resp := &deploy.ValidateResponse{}
	for k := range raw {
		if k != "target_dir" && k != "console_url" {
			resp.Warnings = append(resp.Warnings, fmt.Sprintf("unknown config key %q is ignored", k))
		}
	}
	sort.Strings(resp.Warnings)
	dir, ok := raw["target_dir"].(string)
	switch {
	case !ok || strings.TrimSpace(dir) == "":
		resp.Errors = append(resp.Errors, "target_dir is required: set deploy.config.target_dir to the directory to deploy into")
	default:
		if msg := p.checkDir(dir); msg != "" {
			resp.Errors = append(resp.Errors, msg)
		}
	}
	resp.Valid = len(resp.Errors) == 0
	return resp, nil
}

// checkDir says why dir cannot be a deploy directory, or "".
func (p *Provider) checkDir(dir string) string {
	abs := p.abs(dir)
	for cur := abs; ; cur = filepath.Dir(cur) {
		fi, err := os.Stat(cur)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Sprintf("target_dir %q cannot be a directory: %s is a file", dir, cur)
			}
			return ""
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return fmt.Sprintf("target_dir %q: %v", dir, err)
		}
		if filepath.Dir(cur) == cur {
			return fmt.Sprintf("target_dir %q: no existing parent directory", dir)
		}
	}
}

func (p *Provider) abs(rel string) string {
	if filepath.IsAbs(rel) {
		return filepath.Clean(rel)
	}
	return filepath.Join(p.BaseDir, rel)
}

func parseConfig(s string) (config, error) {
	var c config
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, fmt.Errorf("deploy_config is not valid JSON: %w", err)
	}
	if strings.TrimSpace(c.TargetDir) == "" {
		return c, errors.New("deploy_config.target_dir is required")
	}
	return c, nil
}

func decodeState(s string) (*state, error) {
	st := &state{Resources: map[string]resourceState{}}
	if s == "" {
		return st, nil
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("prior_state is not this adapter's state: %w", err)
	}
	if err := json.Unmarshal(raw, st); err != nil {
		return nil, fmt.Errorf("prior_state is not this adapter's state: %w", err)
	}
	if st.Resources == nil {
		st.Resources = map[string]resourceState{}
	}
	return st, nil
}

func (st *state) encode() string {
	raw, _ := json.Marshal(st)
	return base64.StdEncoding.EncodeToString(raw)
}

// pack is the part of a compiled pack this adapter deploys.
type pack struct {
	ID      string            `json:"id"`
	Name    string            `json:"name"`
	Version string            `json:"version"`
	Prompts map[string]inPack `json:"prompts"`
}

// inPack is a value's JSON as it is in the pack, not copied: json.Unmarshal
// hands UnmarshalJSON a piece of its input, and the input here is the
// request's pack, never written (desiredResources). json.RawMessage would
// copy every prompt, the whole pack again.
type inPack []byte

func (r *inPack) UnmarshalJSON(b []byte) error {
	*r = b
	return nil
}

// desiredResources lists what the pack asks for, in a stable order.
func desiredResources(packJSON string, cfg config) ([]desired, error) {
	// Read in place: the pack is never written, and a copy of it was a
	// third of the adapter's peak.
	raw := unsafe.Slice(unsafe.StringData(packJSON), len(packJSON))
	pk, prompts, ok := splitPack(raw)
	if !ok {
		// Any other shape, or not JSON: encoding/json decides, and its
		// error is the answer.
		pk, prompts = pack{}, nil
		if err := json.Unmarshal(raw, &pk); err != nil {
			return nil, fmt.Errorf("pack_json is not a compiled pack: %w", err)
		}
		for k, v := range pk.Prompts {
			prompts = append(prompts, rawPrompt{k, v})
		}
	}
	if pk.ID == "" {
		return nil, errors.New("pack has no id")
	}
	// By name; of one name written twice, the last (as a decoded map).
	slices.SortStableFunc(prompts, func(a, b rawPrompt) int { return strings.Compare(a.name, b.name) })
	n := 0
	for i := range prompts {
		if i+1 < len(prompts) && prompts[i+1].name == prompts[i].name {
			continue
		}
		prompts[n] = prompts[i]
		n++
	}
	prompts = prompts[:n]
	keys := make([]string, 0, len(prompts))
	for _, pr := range prompts {
		if k := pr.name; k == "" || k != filepath.Base(k) || strings.HasPrefix(k, ".") || strings.ContainsAny(k, `/\`) {
			return nil, fmt.Errorf("prompt key %q cannot be a file name", k)
		}
		keys = append(keys, pr.name)
	}
	// filepath.Join(dir, "prompts", k+".json"), joined once: k is a plain
	// file name (checked above), which Join would leave as it is.
	dir := filepath.Join(cfg.TargetDir, "prompts") + string(filepath.Separator)
	out := make([]desired, 0, len(keys)+1)
	for _, pr := range prompts {
		out = append(out, desired{resourceState: resourceState{Type: typePrompt, Name: pr.name, Path: dir + pr.name + ".json"}, raw: pr.raw})
	}
	manifest, _ := json.Marshal(map[string]any{"id": pk.ID, "name": pk.Name, "version": pk.Version, "prompts": keys})
	out = append(out, desired{resourceState: resourceState{Type: typePack, Name: pk.ID, Path: filepath.Join(cfg.TargetDir, "pack.json")}, raw: manifest})
	return out, nil
}

// rawPrompt is a prompt of the pack: its key and its JSON as written.
type rawPrompt struct {
	name string
	raw  []byte
}

// splitPack decodes a pack as json.Unmarshal into pack would, in one
// validating pass (jsonwire.Valid, json.Valid's answer) and one split of
// the bytes at memory speed
// (encoding/json validates, then decodes byte by byte: two thirds of the
// adapter's plan of a 9 MB pack). The prompts are listed as written. ok is
// false for whatever it leaves to encoding/json: invalid JSON, a member it
// would match another way (a key differing in case, a duplicate), a value
// that is not what pack holds.
func splitPack(raw []byte) (pk pack, prompts []rawPrompt, ok bool) {
	if !jsonwire.Valid(raw) {
		return pk, nil, false
	}
	i := jsonwire.SkipSpace(raw, 0)
	if raw[i] != '{' {
		return pk, nil, false
	}
	var seen [4]bool
	ok = true
	jsonwire.Members(raw, i, func(key string, val []byte) {
		var dst *string
		k := 3
		switch key {
		case "id":
			dst, k = &pk.ID, 0
		case "name":
			dst, k = &pk.Name, 1
		case "version":
			dst, k = &pk.Version, 2
		case "prompts":
		default:
			for _, f := range []string{"id", "name", "version", "prompts"} {
				if strings.EqualFold(f, key) || !isASCII(key) {
					ok = false // encoding/json folds keys: its rules
				}
			}
			return
		}
		if seen[k] {
			ok = false
			return
		}
		seen[k] = true
		switch {
		case string(val) == "null":
		case dst != nil && val[0] == '"':
			*dst = jsonwire.UnquoteValid(val)
		case dst == nil && val[0] == '{':
			prompts = []rawPrompt{}
			jsonwire.Members(val, 0, func(name string, p []byte) {
				if len(prompts) == cap(prompts) {
					// Doubled: append grows a long slice by a quarter,
					// and 50,000 prompts' list was made about ten times.
					prompts = slices.Grow(prompts, max(len(prompts), 8))
				}
				prompts = append(prompts, rawPrompt{name, p})
			})
		default:
			ok = false
		}
	})
	return pk, prompts, ok
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// compactDigest is the digest of raw as json.Compact would write it: it
// skips whitespace outside strings in one pass over valid JSON, without
// json.Compact's second validation (a third of a 10 MB plan's time). h is
// reset and used.
func compactDigest(raw []byte, h hash.Hash) string {
	h.Reset()
	inString, escaped, start := false, false, 0
	for i, c := range raw {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			h.Write(raw[start:i])
			start = i + 1
		}
	}
	h.Write(raw[start:])
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// indent formats a prompt as it is written to disk. json.Indent works on the
// raw bytes in one pass: decoding into any and re-encoding cost 4x as much on
// a 10 MB pack.
func indent(raw json.RawMessage) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(raw) + len(raw)/8)
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// onDisk returns the digest of the file at rel, "" if it is missing, or a
// marker that matches no digest if something else (a directory) is there.
func (p *Provider) onDisk(rel string) (string, error) {
	abs := p.abs(rel)
	// Lstat: a symbolic link is not this adapter's file, and is not followed.
	fi, err := os.Lstat(abs)
	if err == nil && !fi.Mode().IsRegular() {
		return "not-a-regular-file", nil
	}
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return "", nil // missing: one system call per new prompt, not two
	}
	b, err := os.ReadFile(abs)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return digest(b), nil
}

func fileURL(abs string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
}
