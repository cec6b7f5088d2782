package deploy

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// JSON-RPC 2.0 error codes. PromptKit's adapter SDK (and ours) answers a
// request it cannot parse and params it cannot decode both with -32700, a
// method it does not serve (or none) with -32601 and a provider error with
// -32603; -32600 and -32602 are JSON-RPC's and other adapters may send them.
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

// PromptKitMaxRequestBytes is the longest request line, newline included,
// that PromptKit's adapter SDK reads: its serve loop's bufio.Scanner stops at
// 10 MiB (maxScanSize), and the adapter exits with "token too long".
const PromptKitMaxRequestBytes = 10 << 20

// CapabilityMaxRequestPrefix declares, in ProviderInfo.Capabilities, that an
// adapter reads request lines longer than PromptKit's SDK does:
// "max-request-bytes=67108864". Our SDK declares it; PromptKit's declares
// nothing, so its 10 MiB limit is assumed.
const CapabilityMaxRequestPrefix = "max-request-bytes="

// MaxRequestBytes is the longest request line the adapter declares it reads,
// or PromptKit's SDK limit when it declares none.
func (p *ProviderInfo) MaxRequestBytes() int {
	for _, c := range p.Capabilities {
		if v, ok := strings.CutPrefix(c, CapabilityMaxRequestPrefix); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				return n
			}
		}
	}
	return PromptKitMaxRequestBytes
}

// RequestTooLargeError is a request the adapter could not read: sending it
// would make a PromptKit-based adapter exit ("token too long") and show up
// as a broken pipe.
type RequestTooLargeError struct {
	Method      string
	Size, Limit int
}

// Error implements error.
func (e *RequestTooLargeError) Error() string {
	return fmt.Sprintf("the %s request is %s (the pack, JSON-escaped inside the request line), and this adapter reads at most %s per line "+
		"(PromptKit's adapter SDK stops at 10 MiB)", e.Method, MiB(e.Size), MiB(e.Limit))
}

// MiB formats a byte count for messages: "12.46 MiB (13065432 bytes)".
func MiB(n int) string {
	return fmt.Sprintf("%.2f MiB (%d bytes)", float64(n)/(1<<20), n)
}
