// Package pack reads a compiled PromptKit pack once per run: it validates
// the bytes, finds the metadata, and digests the content, all from one
// split of the top-level object, so a 10 MB pack is not decoded into a tree
// two or three times over.
package pack

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/jsonwire"
)

// ErrInvalid is matched when the pack is not one valid UTF-8 JSON object.
var ErrInvalid = errors.New("pack is not a valid compiled pack")

// Meta is what the action shows of a pack.
type Meta struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Pack is a parsed pack: its bytes, checksum, metadata and top-level fields.
type Pack struct {
	Raw      []byte
	Checksum string // sha256:<hex> of Raw, PromptKit's pack_checksum
	Meta     Meta
	// Fields are the top-level members as written (the last of duplicates).
	Fields map[string]json.RawMessage

	digestOnce sync.Once
	digest     string
}

// Parse validates raw (one JSON object, valid UTF-8) and reads its
// metadata. It scans the bytes twice at memory speed (UTF-8, structure)
// and once with encoding/json's validator.
func Parse(raw []byte) (*Pack, error) {
	if !utf8.Valid(raw) {
		line, col := position(raw, invalidUTF8At(raw))
		return nil, fmt.Errorf("%w: it is not valid UTF-8 (line %d, column %d); it must be the JSON that packc writes", ErrInvalid, line, col)
	}
	if err := validate(raw); err != nil {
		return nil, err
	}
	p := &Pack{Raw: raw, Checksum: checksum(raw), Fields: map[string]json.RawMessage{}}
	i := skipSpace(raw, 0)
	if raw[i] != '{' {
		return nil, fmt.Errorf("%w: it is JSON, but not an object", ErrInvalid)
	}
	err := members(raw, i, func(key string, val []byte) {
		p.Fields[key] = val
	})
	if err != nil {
		return nil, err
	}
	for key, dst := range map[string]*string{"id": &p.Meta.ID, "name": &p.Meta.Name, "version": &p.Meta.Version} {
		if v, ok := p.Fields[key]; ok && string(v) != "null" {
			if err := json.Unmarshal(v, dst); err != nil {
				return nil, fmt.Errorf("%w: its %q is %s, not a string", ErrInvalid, key, preview(v))
			}
		}
	}
	if p.Meta.ID == "" {
		return nil, fmt.Errorf("%w: it has no \"id\"; every pack packc compiles has one: compile it again with packc (PromptKit's pack compiler)", ErrInvalid)
	}
	return p, nil
}

// validate checks raw is exactly one JSON value, naming the place of the
// first error as line:column.
func validate(raw []byte) error {
	if jsonwire.Valid(raw) {
		return nil
	}
	var v json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	err := dec.Decode(&v)
	offset := skipSpace(raw, int(dec.InputOffset())) // what follows the first value
	var syn *json.SyntaxError
	if errors.As(err, &syn) && syn.Offset > 0 {
		offset = int(syn.Offset) - 1 // the offending byte
	}
	if err == nil {
		err = errors.New("more than one JSON value: something follows the pack's closing brace")
	}
	line, col := position(raw, offset)
	return fmt.Errorf("%w: line %d, column %d: %v", ErrInvalid, line, col, err)
}

// ContentDigest digests the pack without its compilation block (compiler
// version and timestamp), so a recompiled but otherwise identical pack has
// the same digest. It is sha256 of the canonical JSON encoding/json would
// write for the pack decoded with UseNumber (keys sorted, numbers as
// written, HTML escaped), computed in one walk instead of a decoded tree.
func (p *Pack) ContentDigest() string {
	p.digestOnce.Do(p.computeDigest)
	return p.digest
}

// Prepare starts computing the content digest in the background, so it is
// ready when asked for: a plan run computes it while the adapter plans
// (40 ms of a 9 MB pack's plan run, on the other core).
func (p *Pack) Prepare() {
	go p.ContentDigest()
}

func (p *Pack) computeDigest() {
	c := &canon{h: sha256.New()}
	keys := make([]string, 0, len(p.Fields))
	for k := range p.Fields {
		if k != "compilation" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	c.byte('{')
	for i, k := range keys {
		if i > 0 {
			c.byte(',')
		}
		c.buf = jsonwire.AppendQuotedHTML(c.buf, k)
		c.byte(':')
		c.value(p.Fields[k], 0)
	}
	c.byte('}')
	p.digest = "sha256:" + hex.EncodeToString(c.sum())
}

func checksum(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// canon writes canonical JSON into a hash through a small buffer.
type canon struct {
	h   hash.Hash
	buf []byte
	// scratch holds, per depth, the members of the object being written:
	// made once, not once per prompt (50,000 prompts).
	scratch [][]rawMember
}

// rawMember is an object's member as written: its key's literal, quotes
// included, and its value.
type rawMember struct {
	key, val []byte
}

// plainKey says whether a key's literal is its key's bytes in quotes, as
// encoding/json writes them: no escape, nothing it escapes. Such keys sort
// and are written as they are, without being decoded into strings.
func plainKey(lit []byte) bool {
	return bytes.IndexByte(lit, '\\') < 0 && canonical(lit)
}

func (c *canon) byte(b byte) { c.buf = append(c.buf, b) }

func (c *canon) flush() {
	if len(c.buf) > 64<<10 {
		c.h.Write(c.buf)
		c.buf = c.buf[:0]
	}
}

func (c *canon) sum() []byte {
	c.h.Write(c.buf)
	c.buf = c.buf[:0]
	return c.h.Sum(nil)
}

// value writes the canonical form of the validated JSON value at the start
// of b (leading whitespace allowed).
func (c *canon) value(b []byte, depth int) {
	i := skipSpace(b, 0)
	switch b[i] {
	case '{':
		for len(c.scratch) <= depth {
			c.scratch = append(c.scratch, nil)
		}
		raw := c.scratch[depth][:0]
		plain := true
		for j := skipSpace(b, i+1); b[j] != '}'; {
			kend := skipValue(b, j)
			key := b[j:kend]
			plain = plain && plainKey(key)
			j = skipSpace(b, skipSpace(b, kend)+1) // past ':'
			vend := skipValue(b, j)
			if len(raw) == cap(raw) {
				// Doubled: append grows a long slice by a quarter, and
				// the 50,000 prompts' slice was made about ten times.
				raw = slices.Grow(raw, max(len(raw), 8))
			}
			raw = append(raw, rawMember{key, b[j:vend]})
			if j = skipSpace(b, vend); b[j] == ',' {
				j = skipSpace(b, j+1)
			}
		}
		c.scratch[depth] = raw
		if plain {
			c.plainObject(raw, depth)
			break
		}
		type member struct {
			key string
			val []byte
		}
		ms := make([]member, 0, len(raw))
		for _, m := range raw {
			ms = append(ms, member{unquote(m.key), m.val})
		}
		// Sorted by key; of duplicate keys a decoded map keeps the last.
		slices.SortStableFunc(ms, func(x, y member) int { return strings.Compare(x.key, y.key) })
		n := 0
		for j := range ms {
			if j+1 < len(ms) && ms[j+1].key == ms[j].key {
				continue
			}
			ms[n] = ms[j]
			n++
		}
		ms = ms[:n]
		c.byte('{')
		for j, m := range ms {
			if j > 0 {
				c.byte(',')
			}
			c.buf = jsonwire.AppendQuotedHTML(c.buf, m.key)
			c.byte(':')
			c.value(m.val, depth+1)
		}
		c.byte('}')
	case '[':
		c.byte('[')
		j := skipSpace(b, i+1)
		for n := 0; b[j] != ']'; n++ {
			if n > 0 {
				c.byte(',')
			}
			end := skipValue(b, j)
			c.value(b[j:end], depth+1)
			j = skipSpace(b, end)
			if b[j] == ',' {
				j = skipSpace(b, j+1)
			}
		}
		c.byte(']')
	case '"':
		end := skipString(b, i)
		if lit := b[i:end]; canonical(lit) {
			c.buf = append(c.buf, lit...) // already what encoding/json writes
		} else {
			c.buf = jsonwire.AppendQuotedHTML(c.buf, unquote(lit))
		}
	default: // numbers (as written, as json.Number keeps them), true, false, null
		end := skipValue(b, i)
		c.buf = append(c.buf, b[i:end]...)
	}
	c.flush()
}

// plainObject writes an object whose keys are all plain (plainKey): sorted
// by their bytes, which are the keys' (already in order in a pack packc
// wrote, so not sorted again), of duplicates the last, as a decoded map
// keeps it.
func (c *canon) plainObject(ms []rawMember, depth int) {
	body := func(m rawMember) []byte { return m.key[1 : len(m.key)-1] }
	if !slices.IsSortedFunc(ms, func(x, y rawMember) int { return bytes.Compare(body(x), body(y)) }) {
		slices.SortStableFunc(ms, func(x, y rawMember) int { return bytes.Compare(body(x), body(y)) })
	}
	c.byte('{')
	n := 0
	for j, m := range ms {
		if j+1 < len(ms) && bytes.Equal(body(ms[j+1]), body(m)) {
			continue
		}
		if n > 0 {
			c.byte(',')
		}
		n++
		c.buf = append(c.buf, m.key...)
		c.byte(':')
		c.value(m.val, depth+1)
	}
	c.byte('}')
}

// canonical reports whether a string literal of a valid pack (JSON, valid
// UTF-8) is already what encoding/json writes for the string it decodes
// to, HTML escaping on: nothing it escapes is written raw ('<', '>', '&',
// U+2028, U+2029), and every escape is the one it writes for that
// character. packc writes packs with encoding/json, so nearly every
// literal is, and is hashed as it is instead of decoded and encoded again
// (a prompt's template has escapes on every line).
func canonical(lit []byte) bool {
	body := lit[1 : len(lit)-1]
	for _, c := range [...]byte{'<', '>', '&'} {
		if bytes.IndexByte(body, c) >= 0 {
			return false
		}
	}
	for i := 0; ; i++ {
		k := bytes.IndexByte(body[i:], 0xE2)
		if k < 0 {
			break
		}
		i += k
		if i+2 < len(body) && body[i+1] == 0x80 && (body[i+2] == 0xA8 || body[i+2] == 0xA9) {
			return false
		}
	}
	for i := 0; ; {
		k := bytes.IndexByte(body[i:], '\\')
		if k < 0 {
			return true
		}
		i += k
		switch body[i+1] {
		case '"', '\\', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			v, ok := lowerHex4(body[i+2 : i+6])
			short := v == '\b' || v == '\f' || v == '\n' || v == '\r' || v == '\t'
			if !ok || !(v < 0x20 && !short || v == '<' || v == '>' || v == '&' || v == 0x2028 || v == 0x2029) {
				return false
			}
			i += 6
		default: // '/', written raw
			return false
		}
	}
}

// lowerHex4 reads four lower-case hex digits, as encoding/json writes them.
func lowerHex4(h []byte) (rune, bool) {
	var v rune
	for _, c := range h {
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | rune(c-'a'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// unquote decodes a validated string literal as encoding/json does.
func unquote(b []byte) string { return jsonwire.UnquoteValid(b) }

// members calls f for each member of the validated object starting at
// b[i] == '{', with the value's bytes.
func members(b []byte, i int, f func(key string, val []byte)) error {
	jsonwire.Members(b, i, f)
	return nil
}

func skipValue(b []byte, i int) int { return jsonwire.SkipValue(b, i) }

func skipString(b []byte, i int) int { return jsonwire.SkipValue(b, i) }

func skipSpace(b []byte, i int) int { return jsonwire.SkipSpace(b, i) }

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// position turns a byte offset into a 1-based line and column (in bytes).
func position(b []byte, offset int) (line, col int) {
	if offset > len(b) {
		offset = len(b)
	}
	line = 1 + bytes.Count(b[:offset], []byte("\n"))
	col = offset - bytes.LastIndexByte(b[:offset], '\n')
	return line, col
}

func preview(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}
