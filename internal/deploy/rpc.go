package deploy

import (
	"encoding/json"
	"errors"
	"fmt"
)

// JSON-RPC 2.0 error codes. PromptKit's adapter SDK answers a request it
// cannot parse and params it cannot decode both with -32700, a method it
// does not serve with -32601 and a provider error with -32603; -32600 and
// -32602 are JSON-RPC's and other adapters may send them.
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternalError  = -32603
)

// Method names of the deploy protocol.
const (
	MethodGetProviderInfo = "get_provider_info"
	MethodValidateConfig  = "validate_config"
	MethodPlan            = "plan"
	MethodApply           = "apply"
	MethodDestroy         = "destroy"
	MethodStatus          = "status"
	MethodImport          = "import"
)

// ErrMethodNotSupported is matched (errors.Is) by an adapter's answer that it
// does not serve a method (-32601), e.g. an adapter without import.
var ErrMethodNotSupported = errors.New("method not supported by the adapter")

// RPCError is an error object returned by an adapter.
type RPCError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// Error implements error.
func (e *RPCError) Error() string {
	return fmt.Sprintf("%s (code %d)", e.Message, e.Code)
}

// Is lets errors.Is(err, ErrMethodNotSupported) match code -32601.
func (e *RPCError) Is(target error) bool {
	return target == ErrMethodNotSupported && e.Code == CodeMethodNotFound
}

// RPCRequest is one JSON-RPC request line.
type RPCRequest struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params,omitempty"`
}

// RPCResponse is one JSON-RPC response line.
type RPCResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *RPCError       `json:"error,omitempty"`
}
