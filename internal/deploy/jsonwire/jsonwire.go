// Package jsonwire encodes and decodes the one big JSON string of the deploy
// protocol (a pack nested as a string inside a JSON-RPC line) without the
// standard library's general-purpose scanner.
//
// encoding/json validates a document in one pass and decodes it in
// another, byte by byte through a state machine: about 250 MB/s here, so a
// 12 MB plan line costs ~100 ms before the adapter sees it. The protocol's
// hot shape is narrow (an object of string fields), so this package decodes
// exactly that shape in one table-driven pass, and says "not mine" for
// anything else, leaving it to encoding/json. Its output is byte-for-byte
// encoding/json's (SetEscapeHTML(false)); tests and a fuzz target check
// both directions against the standard library.
package jsonwire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// safe[b] is true for ASCII bytes encoding/json writes as they are (with
// HTML escaping off): everything printable but '"' and '\\'.
var safe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// htmlSafe is safe for json.Marshal's default (HTML escaping on): '<', '>'
// and '&' are written as \u003c, \u003e and \u0026.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	t = safe
	t['<'], t['>'], t['&'] = false, false, false
	return t
}()

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasZeroByte reports whether any byte of w is 0 (the classic SWAR test).
func hasZeroByte(w uint64) bool { return (w-lsb)&^w&msb != 0 }

// word is the 8 bytes of s at i, little-endian (the compiler makes it one
// load).
func word(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// safeRun returns the index of the first byte at or after i that is not
// written as it is (with html, '<', '>' and '&' are not either), eight bytes
// at a time: prompt text is mostly plain ASCII, and this is the hot loop.
func safeRun(s string, i int, html bool) int {
	for ; i+8 <= len(s); i += 8 {
		w := word(s, i)
		// A byte >= 0x80 or < 0x20, a '"' or a '\\' stops the run.
		if w&msb != 0 || (w-0x2020202020202020)&^w&msb != 0 ||
			hasZeroByte(w^(lsb*'"')) || hasZeroByte(w^(lsb*'\\')) {
			break
		}
		if html && (hasZeroByte(w^(lsb*'<')) || hasZeroByte(w^(lsb*'>')) || hasZeroByte(w^(lsb*'&'))) {
			break
		}
	}
	t := &safe
	if html {
		t = &htmlSafe
	}
	for i < len(s) && s[i] < utf8.RuneSelf && t[s[i]] {
		i++
	}
	return i
}

// QuotedLen is len(AppendQuoted(nil, s)), without building it: the client
// checks a request's size against the adapter's limit before sending.
func QuotedLen(s string) int { return quotedLen(s, false) }

// QuotedLenHTML is len(AppendQuotedHTML(nil, s)).
func QuotedLenHTML(s string) int { return quotedLen(s, true) }

// quotedLen counts: for text with no control byte, no U+2028/2029 and valid
// UTF-8 (every pack), each '"' and '\\' adds one byte and, with html, each
// '<', '>' and '&' five; strings.Count and utf8.ValidString run at memory
// speed. Anything else is measured rune by rune.
func quotedLen(s string, html bool) int {
	if !hasControl(s) && utf8.ValidString(s) && !strings.Contains(s, "\u2028") && !strings.Contains(s, "\u2029") {
		n := len(s) + 2 + strings.Count(s, `"`) + strings.Count(s, `\`)
		if html {
			n += 5 * (strings.Count(s, "<") + strings.Count(s, ">") + strings.Count(s, "&"))
		}
		return n
	}
	return quotedLenSlow(s, html)
}

// hasControl reports whether s holds a byte below 0x20, eight at a time.
func hasControl(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if w := word(s, i); (w-0x2020202020202020)&^w&msb != 0 {
			return true
		}
	}
	for ; i < len(s); i++ {
		if s[i] < 0x20 {
			return true
		}
	}
	return false
}

func quotedLenSlow(s string, html bool) int {
	t := &safe
	if html {
		t = &htmlSafe
	}
	n := 2
	for i := 0; i < len(s); {
		j := safeRun(s, i, html)
		n += j - i
		if i = j; i >= len(s) {
			break
		}
		b := s[i]
		if b < utf8.RuneSelf {
			switch {
			case t[b]:
				n++
			case b == '\\' || b == '"' || b == '\b' || b == '\f' || b == '\n' || b == '\r' || b == '\t':
				n += 2
			default:
				n += 6
			}
			i++
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			n += 6
		case c == '\u2028' || c == '\u2029':
			n += 6
		default:
			n += size
		}
		i += size
	}
	return n
}

// AppendQuoted appends s as a JSON string exactly as encoding/json encodes
// it with SetEscapeHTML(false): short escapes for \b \f \n \r \t, \u00XX
// for other control bytes, \ufffd for invalid UTF-8, \u2028 and \u2029
// escaped.
func AppendQuoted(dst []byte, s string) []byte {
	return appendQuoted(dst, s, &safe)
}

// AppendQuotedHTML appends s as json.Marshal encodes it (HTML escaping on),
// as PromptKit writes its files.
func AppendQuotedHTML(dst []byte, s string) []byte {
	return appendQuoted(dst, s, &htmlSafe)
}

func appendQuoted(dst []byte, s string, safe *[utf8.RuneSelf]bool) []byte {
	dst = append(dst, '"')
	html := safe == &htmlSafe
	start := 0
	for i := 0; i < len(s); {
		if i = safeRun(s, i, html); i >= len(s) {
			break
		}
		b := s[i]
		if b < utf8.RuneSelf {
			if safe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '<', '>', '&':
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// chunk is how much of a big string is escaped at a time when streaming.
const chunk = 64 << 10

// WriteQuoted writes s as AppendQuoted would, a chunk at a time, so a 10 MB
// pack is never held twice in memory while it is sent.
func WriteQuoted(w *bufio.Writer, s string) error {
	if err := w.WriteByte('"'); err != nil {
		return err
	}
	// An escaped byte takes at most 6: one buffer holds any escaped chunk.
	buf := make([]byte, 0, 6*chunk+2)
	for len(s) > 0 {
		n := chunk
		if n >= len(s) {
			n = len(s)
		} else {
			// Never split a UTF-8 sequence: back up to a rune start.
			for n > 0 && !utf8.RuneStart(s[n]) {
				n--
			}
			if n == 0 {
				n = chunk
			}
		}
		q := AppendQuoted(buf[:0], s[:n])
		if _, err := w.Write(q[1 : len(q)-1]); err != nil {
			return err
		}
		s = s[n:]
	}
	return w.WriteByte('"')
}

// scanString finds the end of the JSON string literal at the start of b
// (b[0] == '"'): n is its length with both quotes, escapes whether any
// backslash escape is in it. ok is false for anything this package does not
// decode exactly as encoding/json does (invalid UTF-8, a control byte, an invalid escape,
// no closing quote).
func scanString(b []byte) (n int, escapes, ok bool) {
	if len(b) == 0 || b[0] != '"' {
		return 0, false, false
	}
	for i := 1; i < len(b); {
		// Plain runs eight bytes at a time (as safeRun).
		for i+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[i:])
			if w&msb != 0 || (w-0x2020202020202020)&^w&msb != 0 || hasZeroByte(w^(lsb*'"')) || hasZeroByte(w^(lsb*'\\')) {
				break
			}
			i += 8
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		if c < utf8.RuneSelf && safe[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			return i + 1, escapes, true
		case c == '\\':
			if i+1 >= len(b) {
				return 0, false, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if u4(b[i:]) < 0 {
					return 0, false, false
				}
				i += 6
			default: // an invalid escape: encoding/json reports it
				return 0, false, false
			}
			escapes = true
		case c < 0x20:
			return 0, false, false
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return 0, false, false
			}
			i += size
		}
	}
	return 0, false, false
}

// u4 decodes the \uXXXX escape at the start of b, or returns -1.
func u4(b []byte) rune {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range b[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// Unquote decodes the JSON string literal at the start of b (b[0] must be
// '"') and returns it with the number of bytes it took. ok is false when
// scanString declines it: the caller then decodes with encoding/json, which
// also reports real errors.
func Unquote(b []byte) (s string, n int, ok bool) {
	n, escapes, ok := scanString(b)
	if !ok {
		return "", 0, false
	}
	return unquoteLit(b[:n], escapes, 0, nil), n, true
}

// releaseStep is how much of a big literal is decoded between two calls of
// a release function (see DecodeRequestReleasing); tests make it small.
var releaseStep = 1 << 20

// unquoteLit decodes a literal scanString accepted (quotes included). With
// release, it calls release(base+i) as it goes, once lit[:i] is no longer
// needed, every releaseStep bytes.
func unquoteLit(lit []byte, escapes bool, base int, release func(int)) string {
	body := lit[1 : len(lit)-1]
	if !escapes && (release == nil || len(body) <= releaseStep) {
		return string(body)
	}
	// A Builder hands its buffer to the string without a copy: for a 10 MB
	// pack that is 10 MB less at the adapter's peak.
	var out strings.Builder
	out.Grow(len(body))
	next := releaseStep
	for j := 0; j < len(body); {
		if release != nil && j >= next {
			release(base + 1 + j)
			next = j + releaseStep
		}
		k := len(body)
		if !escapes {
			k = min(j+releaseStep, len(body))
		} else if x := bytes.IndexByte(body[j:min(j+releaseStep, len(body))], '\\'); x >= 0 {
			k = j + x
		} else if j+releaseStep < len(body) {
			out.Write(body[j : j+releaseStep])
			j += releaseStep
			continue
		}
		out.Write(body[j:k])
		if k >= len(body) {
			break
		}
		if !escapes {
			j = k
			continue
		}
		switch e := body[k+1]; e {
		case 'u':
			// As encoding/json: a valid surrogate pair is one rune, a lone
			// surrogate is U+FFFD.
			r := u4(body[k:])
			j = k + 6
			if utf16.IsSurrogate(r) {
				if dec := utf16.DecodeRune(r, u4(body[j:])); dec != unicode.ReplacementChar {
					out.WriteRune(dec)
					j += 6
					continue
				}
				r = unicode.ReplacementChar
			}
			out.WriteRune(r)
			continue
		case 'b':
			out.WriteByte('\b')
		case 'f':
			out.WriteByte('\f')
		case 'n':
			out.WriteByte('\n')
		case 'r':
			out.WriteByte('\r')
		case 't':
			out.WriteByte('\t')
		default: // '"', '\\', '/'
			out.WriteByte(e)
		}
		j = k + 2
	}
	return out.String()
}

// lit is a string value found by a scan, decoded only once the whole input
// is known to be this package's to decode.
type lit struct {
	dst        *string
	start, end int // the literal, quotes included, in the scanned input
	escapes    bool
}

// DecodeStringObject decodes b, a JSON object whose values are all strings
// (or JSON null, which leaves a field as it is, as encoding/json does), into
// the fields named by their exact keys; other keys' string values are
// skipped without being copied. ok is false for any other shape, or
// anything this package does not decode exactly as encoding/json does: the
// caller then uses encoding/json. n is the length of the object.
func DecodeStringObject(b []byte, fields map[string]*string) (n int, ok bool) {
	var arr [8]lit
	n, lits, ok := scanStringObject(b, 0, fields, arr[:0])
	if !ok {
		return 0, false
	}
	for _, l := range lits {
		*l.dst = unquoteLit(b[l.start:l.end], l.escapes, 0, nil)
	}
	return n, true
}

// scanStringObject is DecodeStringObject's scan of b[off:]: it appends the
// known fields' literals (positions in b) to lits instead of decoding them.
func scanStringObject(b []byte, off int, fields map[string]*string, lits []lit) (n int, _ []lit, ok bool) {
	i := skipSpace(b, off)
	if i >= len(b) || b[i] != '{' {
		return 0, lits, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1 - off, lits, true
	}
	for {
		kn, kesc, ok := scanString(b[i:])
		if !ok {
			return 0, lits, false
		}
		// A key without escapes is its literal's bytes: looked up as they
		// are, without a string made for each (four a change, 200,000 in a
		// plan of 50,000 changes).
		var dst *string
		var known bool
		if !kesc {
			dst, known = fields[string(b[i+1:i+kn-1])]
		} else {
			dst, known = fields[unquoteLit(b[i:i+kn], true, 0, nil)]
		}
		if !known && foldsToAny(unquoteLit(b[i:i+kn], kesc, 0, nil), fields) {
			return 0, lits, false // encoding/json matches keys case-insensitively
		}
		i = skipSpace(b, i+kn)
		if i >= len(b) || b[i] != ':' {
			return 0, lits, false
		}
		i = skipSpace(b, i+1)
		switch {
		case i < len(b) && b[i] == '"':
			vn, escapes, ok := scanString(b[i:])
			if !ok {
				return 0, lits, false
			}
			if known {
				lits = append(lits, lit{dst: dst, start: i, end: i + vn, escapes: escapes})
			}
			i += vn
		case len(b)-i >= 4 && string(b[i:i+4]) == "null":
			i += 4
		default:
			return 0, lits, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, lits, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i + 1 - off, lits, true
		default:
			return 0, lits, false
		}
	}
}

func foldsToAny(key string, fields map[string]*string) bool {
	for k := range fields {
		if equalFoldJSON(k, key) {
			return true
		}
	}
	return false
}

// equalFoldJSON is a conservative superset of encoding/json's key folding
// (which also folds 'K' with the Kelvin sign and 'S' with 'ſ'): any doubt
// sends the line to encoding/json, which is always correct.
func equalFoldJSON(a, b string) bool {
	if len(a) != len(b) {
		return hasNonASCII(b)
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= utf8.RuneSelf || y >= utf8.RuneSelf {
			return true
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func hasNonASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// UnquoteValid decodes a string literal of valid JSON (json.Valid) at the
// start of b as encoding/json does, invalid UTF-8 included.
func UnquoteValid(b []byte) string {
	if s, _, ok := Unquote(b); ok {
		return s
	}
	var s string
	_ = json.Unmarshal(b[:SkipValue(b, 0)], &s)
	return s
}

// Members calls f for each member of the object of valid JSON (json.Valid)
// starting at b[i] == '{', with its key decoded and its value's bytes, in
// the order written. Strings are skipped with IndexByte, at memory speed:
// a 10 MB pack is split without encoding/json's byte-by-byte decoder.
func Members(b []byte, i int, f func(key string, val []byte)) {
	j := skipSpace(b, i+1)
	for b[j] != '}' {
		kend := SkipValue(b, j)
		key := UnquoteValid(b[j:kend])
		j = skipSpace(b, kend)
		j = skipSpace(b, j+1) // ':'
		vend := SkipValue(b, j)
		f(key, b[j:vend])
		j = skipSpace(b, vend)
		if b[j] == ',' {
			j = skipSpace(b, j+1)
		}
	}
}

// SkipValue returns the end of the value of valid JSON (json.Valid)
// starting at b[i].
func SkipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipValidString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = skipValidString(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	default:
		j := i
		for j < len(b) {
			switch b[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return j
			}
			j++
		}
		return j
	}
}

// skipValidString returns the index after the closing quote of the valid
// string at b[i].
func skipValidString(b []byte, i int) int {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return len(b)
		}
		j += k
		// The quote is escaped when an odd number of backslashes precede it.
		n := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j + 1
		}
		j++
	}
}

// SkipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func SkipSpace(b []byte, i int) int { return skipSpace(b, i) }

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// Envelope is a JSON-RPC request line's outer object.
type Envelope struct {
	JSONRPC string
	ID      json.RawMessage // as written; nil when absent
	Method  string
}

// DecodeRequest decodes a request line whose params are an object of
// strings, straight into the fields that paramsFor gives for its method, in
// one pass. jsonrpc and method must be strings and come before params, id a
// number, string or null. ok is false for every other shape (params first,
// duplicate or unknown keys, nested values): the caller then uses
// encoding/json, so the result never differs from it.
func DecodeRequest(line []byte, paramsFor func(method string) map[string]*string) (env Envelope, ok bool) {
	return DecodeRequestReleasing(line, paramsFor, nil)
}

// DecodeRequestReleasing is DecodeRequest for a line whose memory the
// caller gives back while it is decoded: once the whole line is known to
// be this package's to decode, release(n) (when not nil) is called as the
// strings are decoded, from time to time, to say line[:n] is no longer
// needed. It is never called when ok is false, so the caller can still
// hand the line to encoding/json. env.ID is then a copy, not a piece of
// the line.
func DecodeRequestReleasing(line []byte, paramsFor func(method string) map[string]*string, release func(n int)) (env Envelope, ok bool) {
	env, lits, ok := scanRequest(line, paramsFor)
	if !ok {
		return env, false
	}
	if release != nil {
		env.ID = append(json.RawMessage(nil), env.ID...)
	}
	for _, l := range lits {
		*l.dst = unquoteLit(line[l.start:l.end], l.escapes, l.start, release)
	}
	return env, true
}

func scanRequest(line []byte, paramsFor func(method string) map[string]*string) (env Envelope, lits []lit, ok bool) {
	i := skipSpace(line, 0)
	if i >= len(line) || line[i] != '{' {
		return env, nil, false
	}
	i = skipSpace(line, i+1)
	var seen [4]bool
	for {
		key, kn, ok := Unquote(line[i:])
		if !ok {
			return env, nil, false
		}
		i = skipSpace(line, i+kn)
		if i >= len(line) || line[i] != ':' {
			return env, nil, false
		}
		i = skipSpace(line, i+1)
		k := -1
		switch key {
		case "jsonrpc":
			k = 0
		case "method":
			k = 1
		case "id":
			k = 2
		case "params":
			k = 3
		}
		if k < 0 || seen[k] {
			return env, nil, false // unknown keys and duplicates: encoding/json's rules
		}
		seen[k] = true
		switch k {
		case 0, 1:
			v, vn, ok := Unquote(line[i:])
			if !ok {
				return env, nil, false
			}
			if k == 1 {
				env.Method = v
			} else {
				env.JSONRPC = v
			}
			i += vn
		case 2:
			vn := scalarLen(line[i:])
			if vn == 0 || !json.Valid(line[i:i+vn]) {
				return env, nil, false
			}
			env.ID = json.RawMessage(line[i : i+vn])
			i += vn
		case 3:
			if !seen[1] {
				return env, nil, false
			}
			fields := paramsFor(env.Method)
			if fields == nil {
				return env, nil, false
			}
			var vn int
			vn, lits, ok = scanStringObject(line, i, fields, lits)
			if !ok {
				return env, nil, false
			}
			i += vn
		}
		i = skipSpace(line, i)
		if i >= len(line) {
			return env, nil, false
		}
		switch line[i] {
		case ',':
			i = skipSpace(line, i+1)
		case '}':
			return env, lits, skipSpace(line, i+1) == len(line)
		default:
			return env, nil, false
		}
	}
}

// scalarLen is the length of a number, string or null at the start of b (0
// when it is something else). Strings are measured, not decoded.
func scalarLen(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	if b[0] == '"' {
		n, _, ok := scanString(b)
		if !ok {
			return 0
		}
		return n
	}
	i := 0
	for i < len(b) {
		switch c := b[i]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E', c >= 'a' && c <= 'z':
			i++
		default:
			return i
		}
	}
	return i
}

// quotedReader reads a string's JSON encoding a chunk at a time.
type quotedReader struct {
	s    string
	html bool
	buf  []byte // escaped, not yet read
	mem  []byte // buf's memory, reused for every chunk
	open bool   // the opening quote is written
	done bool   // the closing quote is written
}

// NewQuotedReader reads s quoted as AppendQuoted (or, with html, as
// AppendQuotedHTML) would write it, escaping a chunk at a time: a 10 MB
// pack is streamed into a file or an archive without an escaped copy of it
// in memory.
func NewQuotedReader(s string, html bool) io.Reader {
	return &quotedReader{s: s, html: html}
}

func (r *quotedReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		switch {
		case !r.open:
			r.open, r.buf = true, []byte{'"'}
		case len(r.s) > 0:
			n := min(chunk, len(r.s))
			if n < len(r.s) {
				// Never split a UTF-8 sequence: back up to a rune start.
				for n > 0 && !utf8.RuneStart(r.s[n]) {
					n--
				}
				if n == 0 {
					n = min(chunk, len(r.s))
				}
			}
			if r.mem == nil {
				r.mem = make([]byte, 0, 6*chunk+2) // an escaped byte takes at most 6
			}
			q := appendQuoted(r.mem[:0], r.s[:n], r.safe())
			r.buf, r.s = q[1:len(q)-1], r.s[n:]
		case !r.done:
			r.done, r.buf, r.mem = true, []byte{'"'}, nil
		default:
			return 0, io.EOF
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (r *quotedReader) safe() *[utf8.RuneSelf]bool {
	if r.html {
		return &htmlSafe
	}
	return &safe
}
