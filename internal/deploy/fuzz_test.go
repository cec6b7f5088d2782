package deploy

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"
)

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// FuzzClientResponses feeds arbitrary adapter output to the client: it must
// answer every call with a result or an error, never panic or hang.
func FuzzClientResponses(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"result":{"changes":[],"summary":""}}` + "\n"))
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"x"}}` + "\n"))
	f.Add([]byte(`{"jsonrpc":"2.0","id":"1","result":null}` + "\n"))
	f.Add([]byte("\n\n{}\n"))
	f.Add([]byte(`{"id":1,"result":{"changes":[{"action":7}]}}`))
	f.Add([]byte(`[1,2,3]` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := NewAdapterClientIO(bytes.NewReader(data), nopWriteCloser{io.Discard})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := c.Plan(ctx, &PlanRequest{})
		if ctx.Err() != nil {
			t.Fatalf("call hung: %v", err)
		}
		_, _ = c.Apply(ctx, &PlanRequest{}, func(*ApplyEvent) error { return nil })
		_ = c.Close()
	})
}
