package jsonwire

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math/rand"
	"strings"
	"testing"
)

// stdQuote is what encoding/json writes for s with HTML escaping off.
func stdQuote(s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// alphabet leans on what breaks encoders: quotes, backslashes, control
// bytes, multi-byte runes, U+2028, invalid UTF-8 and lone surrogates.
var alphabet = []string{"a", "b", " ", "\"", "\\", "/", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f",
	"é", "日本", "😀", "\u2028", "\u2029", "\xff", "\xc3", "\xed\xa0\x80", "<", ">", "&", "{", "}", `\u0041`, `\ud83d`}

func randomString(r *rand.Rand) string {
	var sb strings.Builder
	for n := r.Intn(40); n > 0; n-- {
		sb.WriteString(alphabet[r.Intn(len(alphabet))])
	}
	return sb.String()
}

func checkQuote(t testing.TB, s string) {
	want := stdQuote(s)
	if got := AppendQuoted(nil, s); !bytes.Equal(got, want) {
		t.Fatalf("AppendQuoted(%q) = %s, encoding/json %s", s, got, want)
	}
	if got := QuotedLen(s); got != len(want) {
		t.Fatalf("QuotedLen(%q) = %d, want %d", s, got, len(want))
	}
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	if err := WriteQuoted(w, s); err != nil {
		t.Fatal(err)
	}
	_ = w.Flush()
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("WriteQuoted(%q) = %s, want %s", s, buf.Bytes(), want)
	}
}

// checkUnquote: whenever the fast path answers, encoding/json agrees.
func checkUnquote(t testing.TB, lit []byte) {
	got, n, ok := Unquote(lit)
	var want string
	err := json.Unmarshal(lit, &want)
	if !ok {
		return
	}
	if n != len(lit) {
		// A literal followed by more bytes: compare on the literal alone.
		if err := json.Unmarshal(lit[:n], &want); err != nil {
			t.Fatalf("Unquote(%q) accepted %q, encoding/json: %v", lit, lit[:n], err)
		}
	} else if err != nil {
		t.Fatalf("Unquote(%q) = %q, encoding/json refuses it: %v", lit, got, err)
	}
	if got != want {
		t.Fatalf("Unquote(%q) = %q, encoding/json %q", lit, got, want)
	}
}

func TestQuoteMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, s := range alphabet {
		checkQuote(t, s)
	}
	for i := 0; i < 100_000; i++ {
		checkQuote(t, randomString(r))
	}
}

func TestUnquoteMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	handled := 0
	for i := 0; i < 100_000; i++ {
		s := randomString(r)
		lit := stdQuote(s)
		checkUnquote(t, lit)
		if _, _, ok := Unquote(lit); ok {
			handled++
		}
		// Raw (unescaped) bytes between quotes: mostly invalid JSON.
		checkUnquote(t, []byte(`"`+s+`"`))
	}
	// The fast path must actually be the common path, or it buys nothing.
	if handled < 25_000 {
		t.Errorf("fast path took only %d of 100000 encoder outputs", handled)
	}
}

// A big pack-like string round-trips through both directions, streamed in
// chunks that split it at every kind of boundary.
func TestBigStringRoundTrip(t *testing.T) {
	var sb strings.Builder
	for sb.Len() < 3*chunk+17 {
		sb.WriteString(`{"id":"p","system_template":"Line one\nSay \"hi\" to 日本 😀 \\ done\t"},`)
	}
	s := sb.String()
	checkQuote(t, s)
	lit := stdQuote(s)
	got, n, ok := Unquote(lit)
	if !ok || n != len(lit) || got != s {
		t.Fatalf("Unquote of a big string: ok=%v n=%d/%d equal=%v", ok, n, len(lit), got == s)
	}
}

type planParams struct {
	PackJSON     string `json:"pack_json"`
	DeployConfig string `json:"deploy_config"`
	ArenaConfig  string `json:"arena_config,omitempty"`
	Environment  string `json:"environment"`
	PriorState   string `json:"prior_state,omitempty"`
}

func (p *planParams) fields() map[string]*string {
	return map[string]*string{"pack_json": &p.PackJSON, "deploy_config": &p.DeployConfig,
		"arena_config": &p.ArenaConfig, "environment": &p.Environment, "prior_state": &p.PriorState}
}

type stdEnvelope struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  *planParams     `json:"params"`
}

// releases counts DecodeRequestReleasing's calls of release in checkRequest.
var releases int

// checkRequest: whenever DecodeRequest answers, encoding/json decodes the
// same line to the same values without error.
func checkRequest(t testing.TB, line []byte) bool {
	var fast planParams
	env, ok := DecodeRequest(line, func(m string) map[string]*string {
		if m == "plan" || m == "apply" {
			return fast.fields()
		}
		return nil
	})
	if !ok {
		return false
	}
	var std stdEnvelope
	if err := json.Unmarshal(line, &std); err != nil {
		t.Fatalf("DecodeRequest accepted %q; encoding/json: %v", line, err)
	}
	if std.Params == nil {
		std.Params = &planParams{}
	}
	if env.JSONRPC != std.JSONRPC || env.Method != std.Method || !bytes.Equal(env.ID, std.ID) || fast != *std.Params {
		t.Fatalf("DecodeRequest(%q) = %+v %+v; encoding/json %+v %+v", line, env, fast, std, *std.Params)
	}
	// Released as it is decoded: what is given back is never read again
	// (it is overwritten here, as the adapter's pages are zeroed).
	defer func(step int) { releaseStep = step }(releaseStep)
	releaseStep = 3
	mine := append([]byte(nil), line...)
	var rel planParams
	upTo := 0
	env2, ok := DecodeRequestReleasing(mine, func(m string) map[string]*string { return rel.fields() }, func(n int) {
		if n < upTo || n > len(mine) {
			t.Fatalf("release(%d) after release(%d), line of %d", n, upTo, len(mine))
		}
		upTo = n
		clear(mine[:n])
		releases++
	})
	if !ok || rel != fast || env2.Method != env.Method || !bytes.Equal(env2.ID, std.ID) {
		t.Fatalf("DecodeRequestReleasing(%q) = %v %+v %+v; DecodeRequest %+v %+v", line, ok, env2, rel, env, fast)
	}
	return true
}

func TestDecodeRequestMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	fast := 0
	for i := 0; i < 20_000; i++ {
		p := planParams{PackJSON: randomString(r), DeployConfig: randomString(r), Environment: randomString(r)}
		params, _ := json.Marshal(p)
		line := []byte(`{"jsonrpc":"2.0","id":` + []string{"1", `"x"`, "null", "17"}[r.Intn(4)] + `,"method":"plan","params":` + string(params) + `}`)
		if checkRequest(t, line) {
			fast++
		}
	}
	if fast < 4_000 {
		t.Errorf("fast path decoded only %d of 20000 well-formed requests", fast)
	}
	if releases < 1000 {
		t.Errorf("only %d releases while decoding", releases)
	}
	for _, line := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"plan","params":{"pack_json":"{}","environment":"prod"}}`,
		` { "jsonrpc" : "2.0" , "method" : "apply" , "params" : { "prior_state" : null , "x" : "y" } , "id" : 2 } `,
		`{"method":"plan","params":{},"id":3}`,
		`{"method":"plan","params":{"Pack_JSON":"x"},"id":3}`,           // folded key: encoding/json's
		`{"params":{"pack_json":"x"},"method":"plan","id":3}`,           // params first
		`{"method":"plan","params":{"pack_json":"x"},"id":3} {}`,        // trailing value
		`{"method":"plan","params":{"pack_json":"x","pack_json":"y"}}`,  // duplicate: last wins
		`{"method":"plan","params":{"pack_json":"\u0041"}}`,             // \u escape
		`{"method":"plan","params":{"pack_json":1}}`,                    // not a string
		`{"method":"plan","method":"plan","params":{}}`,                 // duplicate envelope key
		`{"method":"status","params":{"prior_state":"x"}}`,              // no fields for it
		`{"method":"plan","params":{"pack_json":"x"},"id":01}`,          // invalid number
		`{"method":"plan","params":{"pack_json":"x"},"id":{"a":1}}`,     // object id
		`{"method":"plan","params":{"pack_json":"x"}`,                   // unterminated
		`{"method":"plan","params":{"pack_json":"x"},"jsonrpc":"2.0",}`, // trailing comma
	} {
		checkRequest(t, []byte(line))
	}
}

func FuzzQuote(f *testing.F) {
	for _, s := range alphabet {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkQuote(t, s)
		checkUnquote(t, stdQuote(s))
		checkUnquote(t, []byte(`"`+s+`"`))
	})
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"plan","params":{"pack_json":"{\"a\":1}","environment":"prod"}}`))
	f.Add([]byte(`{"method":"apply","params":{"prior_state":null},"id":"x"}`))
	f.Add([]byte(`{"method":"plan","params":{"Pack_JSON":"x"}}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		checkRequest(t, line)
	})
}

func TestQuoteHTMLMatchesMarshal(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for i := 0; i < 50_000; i++ {
		s := randomString(r) + "<&>"
		want, _ := json.Marshal(s)
		if got := AppendQuotedHTML(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("AppendQuotedHTML(%q) = %s, json.Marshal %s", s, got, want)
		}
		if got := QuotedLenHTML(s); got != len(want) {
			t.Fatalf("QuotedLenHTML(%q) = %d, want %d", s, got, len(want))
		}
	}
}

// TestQuotedReaderMatches: the streamed encoding is AppendQuoted's (and
// AppendQuotedHTML's) byte for byte, for big strings split at every kind
// of boundary and read through buffers of odd sizes.
func TestQuotedReaderMatches(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	var big strings.Builder
	for big.Len() < 3*chunk+17 {
		big.WriteString(randomString(r))
	}
	cases := []string{"", "a", big.String(), strings.Repeat("é", chunk), strings.Repeat("x", chunk-1) + "😀" + strings.Repeat("<", chunk)}
	for i := 0; i < 2000; i++ {
		cases = append(cases, randomString(r))
	}
	for _, s := range cases {
		for _, html := range []bool{false, true} {
			want := AppendQuoted(nil, s)
			if html {
				want = AppendQuotedHTML(nil, s)
			}
			var got bytes.Buffer
			qr := NewQuotedReader(s, html)
			buf := make([]byte, 1+r.Intn(70000))
			for {
				n, err := qr.Read(buf)
				got.Write(buf[:n])
				if err != nil {
					break
				}
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("html=%v, %d bytes: reader and AppendQuoted differ", html, len(s))
			}
		}
	}
}
