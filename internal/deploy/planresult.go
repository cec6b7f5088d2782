package deploy

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/jsonwire"
)

// decodeResponse decodes a response line as json.Unmarshal into an
// RPCResponse would, in one validating pass (jsonwire.Valid, json.Valid's
// answer) and a split of its members, for the shape adapters answer with:
// the keys jsonrpc, id, result and error written once each as they are
// named, none of them null, jsonrpc a string and error an object. ok is
// false for anything else, which the caller decodes with encoding/json.
// The result is not copied: it is a piece of line (encoding/json validated
// the line, then scanned it again and copied the result out: a plan of
// 50,000 changes is a line of about 5 MB).
func decodeResponse(line []byte) (resp RPCResponse, ok bool) {
	if !jsonwire.Valid(line) {
		return resp, false
	}
	i := jsonwire.SkipSpace(line, 0)
	if line[i] != '{' {
		return resp, false
	}
	ok = true
	var seen [4]bool
	names := [...]string{"jsonrpc", "id", "result", "error"}
	jsonwire.Members(line, i, func(key string, val []byte) {
		k := 0
		for k < len(names) && names[k] != key {
			k++
		}
		if k == len(names) {
			for _, n := range names {
				if strings.EqualFold(n, key) {
					// encoding/json matches keys as EqualFold does:
					// "ID", "re\u017fult" (a long s).
					ok = false
				}
			}
			return
		}
		if seen[k] || string(val) == "null" {
			ok = false
			return
		}
		seen[k] = true
		switch k {
		case 0:
			if val[0] != '"' {
				ok = false
				return
			}
			resp.JSONRPC = jsonwire.UnquoteValid(val)
		case 1:
			resp.ID = append(json.RawMessage(nil), val...)
		case 2:
			resp.Result = json.RawMessage(val[:len(val):len(val)])
		case 3:
			var e RPCError
			if val[0] != '{' || json.Unmarshal(val, &e) != nil {
				ok = false
				return
			}
			resp.Error = &e
		}
	})
	if !ok {
		return RPCResponse{}, false
	}
	return resp, true
}

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
		if len(changes) == cap(changes) {
			// Doubled: append grows a long slice by a quarter, and the
			// 50,000 changes of a plan (64 bytes each) were made again
			// about ten times.
			changes = slices.Grow(changes, max(len(changes), 8))
		}
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
