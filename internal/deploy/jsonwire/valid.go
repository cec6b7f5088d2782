package jsonwire

import "encoding/binary"

// maxDepth is encoding/json's limit on nesting: json.Valid refuses deeper.
const maxDepth = 10000

// Valid reports whether b is exactly one JSON value, as json.Valid does
// (bytes of 0x80 and above are not checked as UTF-8 there either), in one
// pass that skips the plain runs of strings eight bytes at a time:
// encoding/json's scanner takes each byte through a state machine, about
// 300 MB/s here, and a pack is mostly the text of its prompts' strings.
func Valid(b []byte) bool {
	var stack [64]bool // true: in an object; deeper levels spill over
	open := stack[:0]
	i := skipSpace(b, 0)
	for {
		// A value at b[i].
		if i >= len(b) {
			return false
		}
		switch c := b[i]; c {
		case '{', '[':
			if len(open) == maxDepth {
				return false
			}
			open = append(open, c == '{')
			i = skipSpace(b, i+1)
			if i < len(b) && b[i] == "]}"[btoi(c == '{')] {
				open = open[:len(open)-1]
				i++
				break
			}
			if c == '{' {
				if i = objectKey(b, i); i < 0 {
					return false
				}
			}
			continue
		case '"':
			if i = validString(b, i); i < 0 {
				return false
			}
		case 't':
			if i = literal(b, i, "true"); i < 0 {
				return false
			}
		case 'f':
			if i = literal(b, i, "false"); i < 0 {
				return false
			}
		case 'n':
			if i = literal(b, i, "null"); i < 0 {
				return false
			}
		default:
			if i = number(b, i); i < 0 {
				return false
			}
		}
		// After a value: close what ends here, then the next member or
		// element, or the end.
		for {
			i = skipSpace(b, i)
			if len(open) == 0 {
				return i == len(b)
			}
			if i >= len(b) {
				return false
			}
			inObject := open[len(open)-1]
			switch b[i] {
			case ',':
				i = skipSpace(b, i+1)
				if inObject {
					if i = objectKey(b, i); i < 0 {
						return false
					}
				}
			case "]}"[btoi(inObject)]:
				open = open[:len(open)-1]
				i++
				continue
			default:
				return false
			}
			break
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// objectKey checks a member's key and its colon at b[i]; it returns where
// the member's value starts, or -1.
func objectKey(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	if i = validString(b, i); i < 0 {
		return -1
	}
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return -1
	}
	return skipSpace(b, i+1)
}

// validString checks the string at b[i] (b[i] == '"') and returns the index
// after it, or -1.
func validString(b []byte, i int) int {
	i++
	for {
		for i+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[i:])
			// A byte < 0x20, a '"' or a '\\' stops the run; bytes of 0x80
			// and above do not (json.Valid does not check UTF-8).
			if (w-0x2020202020202020)&^w&msb != 0 || hasZeroByte(w^(lsb*'"')) || hasZeroByte(w^(lsb*'\\')) {
				break
			}
			i += 8
		}
		if i >= len(b) {
			return -1
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			if i+1 >= len(b) {
				return -1
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if u4(b[i:]) < 0 {
					return -1
				}
				i += 6
			default:
				return -1
			}
		case c < 0x20:
			return -1
		default:
			i++
		}
	}
}

func literal(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// number checks the number at b[i] and returns the index after it, or -1.
func number(b []byte, i int) int {
	digits := func(i int) int {
		j := i
		for j < len(b) && '0' <= b[j] && b[j] <= '9' {
			j++
		}
		return j
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digits(i + 1)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}
