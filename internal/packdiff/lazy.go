package packdiff

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/jsonwire"
)

// lineCount is how many lines the unified diff of an added or removed
// prompt's template shows: the lines of the text, a last line without a
// newline included. valid says raw is known to be valid JSON (the action
// validated the pull request's pack), so the count is read from the
// template's literal without decoding the prompt; otherwise the prompt is
// decoded as it would be to show it (an invalid prompt shows no text).
func lineCount(raw json.RawMessage, valid bool) int {
	if valid {
		if lit, ok := templateLiteral(raw); ok {
			return literalLines(lit)
		}
	}
	return textLines(templateOf(decode(raw)))
}

func textLines(t string) int {
	n := strings.Count(t, "\n")
	if t != "" && !strings.HasSuffix(t, "\n") {
		n++
	}
	return n
}

// eachMember calls f with each member of a valid object, keys decoded;
// false if raw is not an object.
func eachMember(raw []byte, f func(key string, val []byte)) bool {
	return eachMemberRaw(raw, func(_, name string, val []byte) { f(name, val) })
}

// eachMemberRaw is eachMember with each key's literal as written too.
func eachMemberRaw(raw []byte, f func(key, name string, val []byte)) bool {
	i := skipWS(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return false
	}
	i = skipWS(raw, i+1)
	for i < len(raw) && raw[i] == '"' {
		kend, err := skipString(raw, i)
		if err != nil {
			return false
		}
		keyStart := i
		key := string(raw[i+1 : kend-1])
		if strings.IndexByte(key, '\\') >= 0 {
			if json.Unmarshal(raw[i:kend], &key) != nil {
				return false
			}
		}
		i = skipWS(raw, kend)
		if i >= len(raw) || raw[i] != ':' {
			return false
		}
		i = skipWS(raw, i+1)
		vend, err := skipValue(raw, i)
		if err != nil {
			return false
		}
		f(string(raw[keyStart:kend]), key, raw[i:vend])
		i = skipWS(raw, vend)
		if i < len(raw) && raw[i] == ',' {
			i = skipWS(raw, i+1)
		}
	}
	return true
}

// membersWithoutTemplate is withoutTemplate(decode(raw)) for a valid
// prompt: the prompt's other members, put together without the template
// text, are decoded at once (the text, most of a prompt, is not copied
// through the decoder).
func membersWithoutTemplate(raw []byte) (map[string]any, bool) {
	type member struct{ key, val []byte }
	var ms []member
	lastIsText := false // the last template member is a string: none shows
	ok := eachMemberRaw(raw, func(key, name string, val []byte) {
		if name == TemplateField {
			lastIsText = val[0] == '"'
		}
		ms = append(ms, member{[]byte(key), val})
	})
	if !ok {
		return nil, false
	}
	b := []byte{'{'}
	for _, m := range ms {
		if lastIsText && string(m.key) == `"`+TemplateField+`"` {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(append(append(b, m.key...), ':'), m.val...)
	}
	b = append(b, '}')
	if lastIsText {
		// An escaped spelling of the key is the template too: the general way.
		for _, m := range ms {
			if bytes.IndexByte(m.key, '\\') >= 0 {
				return nil, false
			}
		}
	}
	m, isMap := decode(b).(map[string]any)
	return m, isMap
}

// templateLiteral finds the template's string literal in a valid prompt
// (the last member of that name, as decoding keeps). ok is false when the
// prompt is not an object; lit is nil when the template is absent or not
// a string, which shows no text.
func templateLiteral(raw []byte) (lit []byte, ok bool) {
	i := skipWS(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, false
	}
	i = skipWS(raw, i+1)
	for i < len(raw) && raw[i] == '"' {
		kend, err := skipString(raw, i)
		if err != nil {
			return nil, false
		}
		key := raw[i+1 : kend-1]
		isTemplate := string(key) == TemplateField
		if bytes.IndexByte(key, '\\') >= 0 {
			var k string
			if json.Unmarshal(raw[i:kend], &k) != nil {
				return nil, false
			}
			isTemplate = k == TemplateField
		}
		i = skipWS(raw, kend)
		if i >= len(raw) || raw[i] != ':' {
			return nil, false
		}
		i = skipWS(raw, i+1)
		vend, err := skipValue(raw, i)
		if err != nil {
			return nil, false
		}
		if isTemplate {
			lit = nil
			if raw[i] == '"' {
				lit = raw[i:vend]
			}
		}
		i = skipWS(raw, vend)
		if i < len(raw) && raw[i] == ',' {
			i = skipWS(raw, i+1)
		}
	}
	return lit, true
}

// literalLines is textLines of a valid string literal's text, read from
// its escapes: a newline is \n or \u000a.
func literalLines(lit []byte) int {
	if len(lit) <= 2 {
		return 0
	}
	body := lit[1 : len(lit)-1]
	n, lastNL := 0, false
	for i := 0; i < len(body); {
		if body[i] != '\\' {
			j := bytes.IndexByte(body[i:], '\\')
			if j < 0 {
				lastNL = false
				break
			}
			if j > 0 {
				lastNL = false
			}
			i += j
			continue
		}
		switch {
		case i+1 < len(body) && body[i+1] == 'n':
			n, lastNL = n+1, true
			i += 2
		case i+1 < len(body) && body[i+1] == 'u':
			if i+6 <= len(body) && bytes.EqualFold(body[i+2:i+6], []byte("000a")) {
				n, lastNL = n+1, true
			} else {
				lastNL = false
			}
			i += 6
		default:
			lastNL = false
			i += 2
		}
	}
	if !lastNL {
		n++
	}
	return n
}

// scalarFields is fieldDiff(nil, withoutTemplate(decode(raw))) for a valid
// new prompt whose members (the template aside) are all strings, numbers,
// booleans or null, as most are: one field per member, its value written
// as compact does, without decoding the prompt. ok is false for any other
// prompt (a nested value, an array), which takes the general way.
func scalarFields(raw []byte, valid bool) (fs []Field, ok bool) {
	if !valid {
		return nil, false
	}
	ok = true
	seen := eachMember(raw, func(key string, val []byte) {
		if !ok {
			return
		}
		if key == TemplateField && val[0] == '"' {
			for i := range fs { // a later string template replaces an earlier value
				if fs[i].Path == key {
					fs = append(fs[:i], fs[i+1:]...)
					break
				}
			}
			return
		}
		v, isScalar := compactScalar(val)
		if !isScalar {
			ok = false
			return
		}
		for i := range fs { // a decoded map keeps the last of duplicate keys
			if fs[i].Path == key {
				fs[i].New = v
				return
			}
		}
		fs = append(fs, Field{Path: key, New: v})
	})
	if !seen || !ok {
		return nil, false
	}
	slices.SortFunc(fs, func(a, b Field) int {
		if ra, rb := groupRank(a.Path), groupRank(b.Path); ra != rb {
			return ra - rb
		}
		return strings.Compare(a.Path, b.Path)
	})
	return fs, true
}

// compactScalar is compact(decode(val)) for a valid scalar literal.
func compactScalar(val []byte) (string, bool) {
	switch val[0] {
	case '{', '[':
		return "", false
	case '"':
		if bytes.IndexByte(val, '\\') < 0 && bytes.IndexByte(val, 0xE2) < 0 {
			return string(val), true // as written is as encoded (HTML left as it is)
		}
		s, n, ok := jsonwire.Unquote(val)
		if !ok || n != len(val) {
			return "", false
		}
		return string(jsonwire.AppendQuoted(nil, s)), true
	}
	return string(val), true // a number as written (UseNumber), true, false, null
}
