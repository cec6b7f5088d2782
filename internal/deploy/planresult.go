package deploy

import "github.com/arena-deploy/arena-deploy-action/internal/deploy/jsonwire"

// decodePlanResult decodes a plan's result as encoding/json would into
// out, in one pass, when it has the plain shape every adapter answers with
// (the keys changes, summary and warnings exactly, changes of string
// fields, warnings of strings); ok is false for anything else, which the
// caller decodes with encoding/json. A plan of 50,000 changes was decoded
// twice over by encoding/json (validate, then decode).
func decodePlanResult(b []byte, out *PlanResponse) (ok bool) {
	var res PlanResponse
	seen := map[string]bool{}
	i := jsonwire.SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = jsonwire.SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			key, n, ok := jsonwire.Unquote(b[i:])
			if !ok || seen[key] {
				return false // duplicate or unknown keys: encoding/json decides
			}
			seen[key] = true
			i = jsonwire.SkipSpace(b, i+n)
			if i >= len(b) || b[i] != ':' {
				return false
			}
			i = jsonwire.SkipSpace(b, i+1)
			switch key {
			case "changes":
				n, ok = decodeChanges(b[i:], &res.Changes)
			case "summary":
				res.Summary, n, ok = jsonwire.Unquote(b[i:])
			case "warnings":
				n, ok = decodeStrings(b[i:], &res.Warnings)
			default:
				return false
			}
			if !ok {
				return false
			}
			i = jsonwire.SkipSpace(b, i+n)
			if i >= len(b) {
				return false
			}
			if b[i] == '}' {
				i++
				break
			}
			if b[i] != ',' {
				return false
			}
			i = jsonwire.SkipSpace(b, i+1)
		}
	}
	if jsonwire.SkipSpace(b, i) != len(b) {
		return false
	}
	*out = res
	return true
}

// array walks a JSON array (or null) at the start of b, calling elem for
// each element; elem returns the element's length.
func array(b []byte, elem func(b []byte) (int, bool)) (n int, null, ok bool) {
	if len(b) >= 4 && string(b[:4]) == "null" {
		return 4, true, true
	}
	if len(b) == 0 || b[0] != '[' {
		return 0, false, false
	}
	i := jsonwire.SkipSpace(b, 1)
	if i < len(b) && b[i] == ']' {
		return i + 1, false, true
	}
	for {
		n, ok := elem(b[i:])
		if !ok {
			return 0, false, false
		}
		i = jsonwire.SkipSpace(b, i+n)
		if i >= len(b) {
			return 0, false, false
		}
		switch b[i] {
		case ']':
			return i + 1, false, true
		case ',':
			i = jsonwire.SkipSpace(b, i+1)
		default:
			return 0, false, false
		}
	}
}

func decodeChanges(b []byte, out *[]ResourceChange) (int, bool) {
	changes := []ResourceChange{}
	var typ, name, action, detail string
	fields := map[string]*string{"type": &typ, "name": &name, "action": &action, "detail": &detail}
	n, null, ok := array(b, func(b []byte) (int, bool) {
		typ, name, action, detail = "", "", "", ""
		n, ok := jsonwire.DecodeStringObject(b, fields)
		changes = append(changes, ResourceChange{Type: typ, Name: name, Action: Action(action), Detail: detail})
		return n, ok
	})
	if ok && !null {
		*out = changes
	}
	return n, ok
}

func decodeStrings(b []byte, out *[]string) (int, bool) {
	strs := []string{}
	n, null, ok := array(b, func(b []byte) (int, bool) {
		s, n, ok := jsonwire.Unquote(b)
		strs = append(strs, s)
		return n, ok
	})
	if ok && !null {
		*out = strs
	}
	return n, ok
}
