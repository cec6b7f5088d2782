package arenacfg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/arena-deploy/arena-deploy-action/internal/mask"
)

// JSON encodes the config as arena_config with secrets redacted, and
// returns the secrets it found, for masking. Under a secret-looking key
// (mask.IsSecretKey) a string becomes its fingerprint anywhere; numbers and
// booleans only under deploy, as the deploy config is redacted, because
// elsewhere PromptKit types them (max_tokens, token_budget) and a
// fingerprint would break an adapter's decoding. Field order and types stay
// PromptKit's.
func (c *Config) JSON() (string, []string, error) {
	raw, err := json.Marshal(c)
	if err != nil {
		return "", nil, fmt.Errorf("encode arena config: %w", err)
	}
	r := &redactor{dec: json.NewDecoder(bytes.NewReader(raw))}
	r.dec.UseNumber()
	if err := r.value(false, false, 0); err != nil {
		return "", nil, fmt.Errorf("redact arena config: %w", err)
	}
	return r.out.String(), r.found, nil
}

// redactor copies a JSON document token by token, redacting on the way, so
// the order of fields is kept.
type redactor struct {
	dec   *json.Decoder
	out   bytes.Buffer
	found []string
}

func (r *redactor) value(secret, all bool, depth int) error {
	tok, err := r.dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			r.out.WriteByte('{')
			for first := true; r.dec.More(); first = false {
				k, err := r.dec.Token()
				if err != nil {
					return err
				}
				key, _ := k.(string)
				if !first {
					r.out.WriteByte(',')
				}
				r.str(key)
				r.out.WriteByte(':')
				if err := r.value(secret || mask.IsSecretKey(key), all || (depth == 0 && key == "deploy"), depth+1); err != nil {
					return err
				}
			}
			r.out.WriteByte('}')
		case '[':
			r.out.WriteByte('[')
			for first := true; r.dec.More(); first = false {
				if !first {
					r.out.WriteByte(',')
				}
				if err := r.value(secret, all, depth+1); err != nil {
					return err
				}
			}
			r.out.WriteByte(']')
		}
		_, err := r.dec.Token() // the closing delimiter
		if err != nil && err != io.EOF {
			return err
		}
	case string:
		if secret {
			r.found = append(r.found, t)
			t = mask.Fingerprint(t)
		}
		r.str(t)
	case json.Number:
		if secret && all {
			r.found = append(r.found, t.String())
			r.str(mask.Fingerprint(t.String()))
			break
		}
		r.out.WriteString(t.String())
	case bool:
		if secret && all {
			s := fmt.Sprint(t)
			r.found = append(r.found, s)
			r.str(mask.Fingerprint(s))
			break
		}
		fmt.Fprint(&r.out, t)
	case nil:
		r.out.WriteString("null")
	}
	return nil
}

func (r *redactor) str(s string) {
	b, _ := json.Marshal(s)
	r.out.Write(b)
}
