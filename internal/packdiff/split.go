package packdiff

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// splitObject splits a JSON object into its members' raw values in one
// pass, without decoding them. A 10 MB pack is mostly template text inside
// strings, which are skipped with bytes.IndexByte, so this is several
// times faster than encoding/json's validate-then-decode of a
// map[string]json.RawMessage (which scans every byte four times over the
// pack and its prompts). It checks structure (strings closed, brackets
// balanced), not every literal: values that differ are decoded with
// encoding/json before use, and byte-identical ones need no reading.
func splitObject(data []byte) (map[string]json.RawMessage, error) {
	i := skipWS(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, errors.New("expected a JSON object")
	}
	// The members are listed first and put in a map made for all of them:
	// grown as they came, the map of 50,000 prompts was rebuilt at every
	// doubling (a third of splitting the pack).
	type member struct {
		key string
		val json.RawMessage
	}
	// In chunks, never copied: grown by append, the list of 50,000 was
	// made again at every quarter it grew.
	var chunks [][]member
	n := 0
	add := func(m member) {
		if n%1024 == 0 {
			chunks = append(chunks, make([]member, 0, min(1024, max(8, n))))
		}
		last := &chunks[len(chunks)-1]
		*last = append(*last, m)
		n++
	}
	toMap := func() map[string]json.RawMessage {
		out := make(map[string]json.RawMessage, n)
		for _, c := range chunks {
			for _, m := range c {
				out[m.key] = m.val
			}
		}
		return out
	}
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == '}' {
		return toMap(), checkEnd(data, i+1)
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return nil, fmt.Errorf("expected a key at offset %d", i)
		}
		end, err := skipString(data, i)
		if err != nil {
			return nil, err
		}
		key := string(data[i+1 : end-1])
		// Escapes, and invalid UTF-8 (which encoding/json turns into
		// U+FFFD), need the decoder's reading of the key.
		if bytes.IndexByte(data[i:end], '\\') >= 0 || !utf8.Valid(data[i:end]) {
			if err := json.Unmarshal(data[i:end], &key); err != nil {
				return nil, fmt.Errorf("key at offset %d: %w", i, err)
			}
		}
		i = skipWS(data, end)
		if i >= len(data) || data[i] != ':' {
			return nil, fmt.Errorf("expected ':' at offset %d", i)
		}
		i = skipWS(data, i+1)
		vend, err := skipValue(data, i)
		if err != nil {
			return nil, err
		}
		add(member{key, data[i:vend:vend]})
		i = skipWS(data, vend)
		if i >= len(data) {
			return nil, errors.New("unexpected end of JSON object")
		}
		switch data[i] {
		case ',':
			i = skipWS(data, i+1)
		case '}':
			return toMap(), checkEnd(data, i+1)
		default:
			return nil, fmt.Errorf("expected ',' or '}' at offset %d", i)
		}
	}
}

func checkEnd(data []byte, i int) error {
	if skipWS(data, i) != len(data) {
		return fmt.Errorf("data after the object at offset %d", i)
	}
	return nil
}

func skipWS(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\n' || data[i] == '\t' || data[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the offset just after the string starting at i.
func skipString(data []byte, i int) (int, error) {
	j := i + 1
	for {
		k := bytes.IndexByte(data[j:], '"')
		if k < 0 {
			return 0, fmt.Errorf("unterminated string at offset %d", i)
		}
		q := j + k
		n := 0
		for b := q - 1; b > i && data[b] == '\\'; b-- {
			n++
		}
		if n%2 == 0 {
			return q + 1, nil
		}
		j = q + 1
	}
}

// skipValue returns the offset just after the value starting at i.
func skipValue(data []byte, i int) (int, error) {
	if i >= len(data) {
		return 0, errors.New("unexpected end of JSON")
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				end, err := skipString(data, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, fmt.Errorf("unclosed value at offset %d", i)
	}
	j := i
	for j < len(data) && !bytes.ContainsRune([]byte(",}] \t\r\n"), rune(data[j])) {
		j++
	}
	if j == i {
		return 0, fmt.Errorf("expected a value at offset %d", i)
	}
	return j, nil
}
