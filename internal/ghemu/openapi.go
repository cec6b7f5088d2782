package ghemu

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/deploytest"
)

// specHost is the server the description is routed under; requests are
// rewritten to it before routing, so any loopback port matches.
const specHost = "http://api.github.test"

var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error
)

// SpecPath is the copy of GitHub's OpenAPI description kept in the repo
// (cut from @octokit/openapi 23.0.2, MIT; see the README beside it).
func SpecPath() string {
	return filepath.Join(deploytest.RepoRoot(), "internal", "ghemu", "testdata", "github-rest-api-subset.json")
}

// contract loads GitHub's description once per process (it takes a quarter
// of a second).
func contract() (routers.Router, error) {
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(SpecPath())
		if err != nil {
			specErr = fmt.Errorf("load GitHub OpenAPI description %s: %w", SpecPath(), err)
			return
		}
		doc.Servers = openapi3.Servers{{URL: specHost}}
		specRouter, specErr = gorillamux.NewRouter(doc)
	})
	return specRouter, specErr
}

// slashPaths match the routes whose last parameter may hold slashes (a
// file path, a ref such as heads/main); the router cannot, so they are
// routed with a placeholder and the real value put back.
var slashPaths = []struct {
	re    *regexp.Regexp
	param string
}{
	{regexp.MustCompile(`^(/repos/[^/]+/[^/]+/contents/)(.+)$`), "path"},
	{regexp.MustCompile(`^(/repos/[^/]+/[^/]+/git/refs?/)(.+)$`), "ref"},
}

// findRoute finds the operation of r in GitHub's description.
func findRoute(r *http.Request) (*routers.Route, map[string]string, error) {
	router, err := contract()
	if err != nil {
		return nil, nil, err
	}
	u := *r.URL
	u.Scheme, u.Host = "http", "api.github.test"
	var realPath, param string
	for _, sp := range slashPaths {
		if m := sp.re.FindStringSubmatch(u.Path); m != nil && strings.Contains(m[2], "/") {
			realPath, param = m[2], sp.param
			u.Path, u.RawPath = m[1]+"placeholder", ""
			break
		}
	}
	probe := r.Clone(r.Context())
	probe.URL = &u
	route, params, err := router.FindRoute(probe)
	if err != nil {
		return nil, nil, err
	}
	if realPath != "" {
		params[param] = realPath
	}
	return route, params, nil
}

// checker validates one exchange against the description.
type checker struct {
	route  *routers.Route
	params map[string]string
	req    *http.Request
	body   []byte
}

func newChecker(r *http.Request) (*checker, error) {
	route, params, err := findRoute(r)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	return &checker{route: route, params: params, req: r, body: body}, nil
}

func (c *checker) input() *openapi3filter.RequestValidationInput {
	req := c.req.Clone(context.Background())
	req.Body = io.NopCloser(bytes.NewReader(c.body))
	// go-github sends this media type; GitHub accepts it like application/json.
	if strings.HasPrefix(req.Header.Get("Accept"), "application/vnd.github") {
		req.Header.Set("Accept", "application/json")
	}
	return &openapi3filter.RequestValidationInput{
		Request: req, PathParams: c.params, Route: c.route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: false},
	}
}

func (c *checker) request() error {
	return openapi3filter.ValidateRequest(context.Background(), c.input())
}

func (c *checker) response(status int, header http.Header, body []byte) error {
	if ct := header.Get("Content-Type"); strings.HasPrefix(ct, "application/vnd.github.raw") {
		// A custom media type GitHub documents in the operation's
		// description, not in its schema: the raw bytes of a blob or file.
		if !strings.Contains(c.route.Operation.Description, "`application/vnd.github.raw+json`") {
			return fmt.Errorf("the raw media type is not documented for this operation")
		}
		return nil
	}
	return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: c.input(),
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	})
}

// responseSchema is the JSON schema of the operation's answer with status.
func (c *checker) responseSchema(status int) *openapi3.Schema {
	ref := c.route.Operation.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		return nil
	}
	mt := ref.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}

// fill completes v with every field the schema requires that v lacks, using
// placeholders of the right type, so each answer has GitHub's full shape
// while the fields the emulator owns come from its state.
func fill(s *openapi3.Schema, v any) any {
	if s == nil {
		return v
	}
	if len(s.AllOf) > 0 {
		for _, sub := range s.AllOf {
			v = fill(sub.Value, v)
		}
		return v
	}
	if v == nil {
		return placeholder(s)
	}
	switch val := v.(type) {
	case map[string]any:
		if len(s.AnyOf)+len(s.OneOf) > 0 && len(s.Properties) == 0 {
			return fill(firstObject(s), val)
		}
		for _, k := range s.Required {
			if _, ok := val[k]; !ok {
				val[k] = placeholder(propSchema(s, k))
			}
		}
		for k, sub := range val {
			if ps := propSchema(s, k); ps != nil && sub != nil {
				val[k] = fill(ps, sub)
			}
		}
		return val
	case []any:
		if s.Items != nil {
			for i := range val {
				val[i] = fill(s.Items.Value, val[i])
			}
		}
		return val
	}
	return v
}

func firstObject(s *openapi3.Schema) *openapi3.Schema {
	for _, alt := range append(append([]*openapi3.SchemaRef{}, s.AnyOf...), s.OneOf...) {
		if alt.Value != nil && alt.Value.Type.Is("object") {
			return alt.Value
		}
	}
	return nil
}

func propSchema(s *openapi3.Schema, k string) *openapi3.Schema {
	if s == nil {
		return nil
	}
	if p, ok := s.Properties[k]; ok && p != nil {
		return p.Value
	}
	return nil
}

var placeholderTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)

func placeholder(s *openapi3.Schema) any {
	if s == nil {
		return nil
	}
	if s.Nullable || s.Type.Includes("null") {
		return nil
	}
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	if len(s.AllOf) > 0 {
		return fill(s, nil)
	}
	if len(s.AnyOf)+len(s.OneOf) > 0 {
		alts := append(append([]*openapi3.SchemaRef{}, s.AnyOf...), s.OneOf...)
		return placeholder(alts[0].Value)
	}
	switch {
	case s.Type.Is("object"):
		return fill(s, map[string]any{})
	case s.Type.Is("array"):
		return []any{}
	case s.Type.Is("integer"), s.Type.Is("number"):
		return 0
	case s.Type.Is("boolean"):
		return false
	case s.Type.Is("string"):
		switch s.Format {
		case "date-time":
			return placeholderTime
		case "uri", "uri-template":
			return "https://github.test/placeholder"
		case "email":
			return "placeholder@github.test"
		}
		return ""
	}
	return nil
}

// firstLine keeps a validator message readable: kin-openapi appends the
// whole schema after the first lines.
func firstLine(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "\nSchema:"); i > 0 {
		msg = msg[:i]
	}
	return strings.TrimSpace(msg)
}

func cloneURL(u *url.URL) *url.URL { c := *u; return &c }
