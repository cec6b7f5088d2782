// Package adaptersdk is the adapter side of the PromptKit deploy protocol:
// it serves a deploy.Provider as JSON-RPC 2.0 over stdin/stdout, with the
// error codes of PromptKit's SDK, so adapters built on it are driven by the
// promptarena CLI and by this action alike.
package adaptersdk

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
)

// MaxRequestBytes bounds one request line. PromptKit's SDK stops at 10 MB;
// ours reads up to 64 MiB so large packs survive JSON escaping.
const MaxRequestBytes = 64 << 20

// Serve serves p on the process's stdin and stdout until stdin closes.
func Serve(p deploy.Provider) error {
	return ServeIO(context.Background(), p, os.Stdin, os.Stdout)
}

// ServeIO serves p, reading requests from r and writing responses to w, one
// JSON object per line, until r ends. A line that is not JSON gets a -32700
// answer and serving goes on.
func ServeIO(ctx context.Context, p deploy.Provider, r io.Reader, w io.Writer) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxRequestBytes)
	bw := bufio.NewWriter(w)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		resp := handle(ctx, p, line)
		out, err := json.Marshal(resp)
		if err != nil {
			out, _ = json.Marshal(errorResponse(resp.ID, deploy.CodeInternalError, "encode result: "+err.Error()))
		}
		if _, err := bw.Write(append(out, '\n')); err != nil {
			return fmt.Errorf("write response: %w", err)
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("write response: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read request: %w", err)
	}
	return nil
}

func errorResponse(id json.RawMessage, code int, msg string) *deploy.RPCResponse {
	if id == nil {
		id = json.RawMessage("null")
	}
	return &deploy.RPCResponse{JSONRPC: "2.0", ID: id, Error: &deploy.RPCError{Code: code, Message: msg}}
}

func handle(ctx context.Context, p deploy.Provider, line []byte) *deploy.RPCResponse {
	var req deploy.RPCRequest
	if err := json.Unmarshal(line, &req); err != nil {
		return errorResponse(nil, deploy.CodeParseError, "parse error: "+err.Error())
	}
	if req.Method == "" {
		return errorResponse(req.ID, deploy.CodeInvalidRequest, "invalid request: no method")
	}
	result, err := dispatch(ctx, p, req.Method, req.Params)
	if err != nil {
		var rpcErr *deploy.RPCError
		if errors.As(err, &rpcErr) {
			resp := errorResponse(req.ID, rpcErr.Code, rpcErr.Message)
			resp.Error.Data = rpcErr.Data
			return resp
		}
		return errorResponse(req.ID, deploy.CodeInternalError, err.Error())
	}
	raw, err := json.Marshal(result)
	if err != nil {
		return errorResponse(req.ID, deploy.CodeInternalError, "encode result: "+err.Error())
	}
	return &deploy.RPCResponse{JSONRPC: "2.0", ID: req.ID, Result: raw}
}

func decode[T any](params json.RawMessage) (*T, error) {
	var v T
	if len(params) == 0 {
		return &v, nil
	}
	if err := json.Unmarshal(params, &v); err != nil {
		return nil, &deploy.RPCError{Code: deploy.CodeInvalidParams, Message: "invalid params: " + err.Error()}
	}
	return &v, nil
}

func dispatch(ctx context.Context, p deploy.Provider, method string, params json.RawMessage) (any, error) {
	switch method {
	case deploy.MethodGetProviderInfo:
		return p.GetProviderInfo(ctx)
	case deploy.MethodValidateConfig:
		return call(ctx, params, p.ValidateConfig)
	case deploy.MethodPlan:
		return call(ctx, params, p.Plan)
	case deploy.MethodStatus:
		return call(ctx, params, p.Status)
	case deploy.MethodImport:
		return call(ctx, params, p.Import)
	case deploy.MethodApply:
		return apply(ctx, p, params)
	case deploy.MethodDestroy:
		return destroy(ctx, p, params)
	}
	return nil, &deploy.RPCError{Code: deploy.CodeMethodNotFound, Message: "method not found: " + method}
}

func call[Req, Resp any](ctx context.Context, params json.RawMessage, f func(context.Context, *Req) (*Resp, error)) (any, error) {
	req, err := decode[Req](params)
	if err != nil {
		return nil, err
	}
	return f(ctx, req)
}

// apply collects the provider's events and returns them with the state in
// one response, as PromptKit's SDK does.
func apply(ctx context.Context, p deploy.Provider, params json.RawMessage) (any, error) {
	req, err := decode[deploy.PlanRequest](params)
	if err != nil {
		return nil, err
	}
	var events []deploy.ApplyEvent
	state, err := p.Apply(ctx, req, func(e *deploy.ApplyEvent) error {
		events = append(events, *e)
		return nil
	})
	if err != nil && state != "" {
		// A partial deploy must not be forgotten: the state travels in the
		// error's data so the caller can save it.
		data, _ := json.Marshal(&deploy.ApplyResponse{AdapterState: state, Events: events})
		return nil, &deploy.RPCError{Code: deploy.CodeInternalError, Message: err.Error(), Data: data}
	}
	if err != nil {
		return nil, err
	}
	return &deploy.ApplyResponse{AdapterState: state, Events: events}, nil
}

func destroy(ctx context.Context, p deploy.Provider, params json.RawMessage) (any, error) {
	req, err := decode[deploy.DestroyRequest](params)
	if err != nil {
		return nil, err
	}
	var events []deploy.DestroyEvent
	err = p.Destroy(ctx, req, func(e *deploy.DestroyEvent) error {
		events = append(events, *e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &deploy.DestroyResponse{Status: "destroyed", Events: events}, nil
}
