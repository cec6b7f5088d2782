// Package adaptersdk is the adapter side of the PromptKit deploy protocol:
// it serves a deploy.Provider as JSON-RPC 2.0 over stdin/stdout, with the
// error codes of PromptKit's SDK, so adapters built on it are driven by the
// promptarena CLI and by this action alike.
package adaptersdk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy"
	"github.com/arena-deploy/arena-deploy-action/internal/deploy/jsonwire"
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
// answer and serving goes on; so does a line over MaxRequestBytes, whose
// answer says how large it was.
func ServeIO(ctx context.Context, p deploy.Provider, r io.Reader, w io.Writer) error {
	lr := &lineReader{br: bufio.NewReaderSize(r, 64<<10), max: MaxRequestBytes}
	defer lr.done()
	bw := bufio.NewWriter(w)
	for {
		line, size, err := lr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var resp *deploy.RPCResponse
		var result any
		switch {
		case errors.Is(err, errTooLong):
			resp = errorResponse(nil, deploy.CodeParseError, fmt.Sprintf(
				"request line of %s is longer than this adapter reads (%s): split the pack, or build the adapter with a larger adaptersdk.MaxRequestBytes",
				deploy.MiB(size), deploy.MiB(lr.max)))
		case err != nil:
			return fmt.Errorf("read request: %w", err)
		case len(bytes.TrimSpace(line)) == 0:
			continue
		default:
			resp, result = handle(ctx, p, line, lr.release)
		}
		lr.done()
		if err := writeResponse(bw, resp, result); err != nil {
			return fmt.Errorf("write response: %w", err)
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("write response: %w", err)
		}
	}
}

// writeResponse writes resp and its newline; unless resp is an error, with
// result encoded as its Result. The bytes are
// json.Marshal's of the whole response, but the result is encoded once,
// straight into the response: marshalled on its own and then inside the
// response, a plan of 50,000 changes was held three times over.
func writeResponse(bw *bufio.Writer, resp *deploy.RPCResponse, result any) error {
	if resp.Error == nil {
		head, err := json.Marshal(struct {
			JSONRPC string          `json:"jsonrpc"`
			ID      json.RawMessage `json:"id"`
		}{resp.JSONRPC, resp.ID})
		if plan, ok := result.(*deploy.PlanResponse); ok && err == nil && plan != nil {
			return writePlanResult(bw, head[:len(head)-1], plan)
		}
		if err == nil {
			w := &resultWriter{bw: bw, head: head[:len(head)-1]}
			if err = json.NewEncoder(w).Encode(result); err == nil || w.err != nil {
				return w.err
			}
		}
		resp = errorResponse(resp.ID, deploy.CodeInternalError, "encode result: "+err.Error())
	}
	out, err := json.Marshal(resp)
	if err != nil {
		out, _ = json.Marshal(errorResponse(resp.ID, deploy.CodeInternalError, "encode result: "+err.Error()))
	}
	if _, err := bw.Write(out); err != nil {
		return err
	}
	return bw.WriteByte('\n')
}

// writePlanResult writes a plan's response as writeResponse does, a change
// at a time: json.Marshal's bytes (TestPlanResultAsMarshal), without
// holding the encoding of 50,000 changes at once.
func writePlanResult(bw *bufio.Writer, head []byte, r *deploy.PlanResponse) error {
	buf := append(head, `,"result":{"changes":`...)
	if r.Changes == nil {
		buf = append(buf, "null"...)
	} else {
		buf = append(buf, '[')
		for i := range r.Changes {
			c := &r.Changes[i]
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, `{"type":`...)
			buf = jsonwire.AppendQuotedHTML(buf, c.Type)
			buf = append(buf, `,"name":`...)
			buf = jsonwire.AppendQuotedHTML(buf, c.Name)
			buf = append(buf, `,"action":`...)
			buf = jsonwire.AppendQuotedHTML(buf, string(c.Action))
			if c.Detail != "" {
				buf = append(buf, `,"detail":`...)
				buf = jsonwire.AppendQuotedHTML(buf, c.Detail)
			}
			buf = append(buf, '}')
			if len(buf) > 32<<10 {
				if _, err := bw.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
		buf = append(buf, ']')
	}
	buf = append(buf, `,"summary":`...)
	buf = jsonwire.AppendQuotedHTML(buf, r.Summary)
	if len(r.Warnings) > 0 {
		buf = append(buf, `,"warnings":[`...)
		for i, w := range r.Warnings {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = jsonwire.AppendQuotedHTML(buf, w)
		}
		buf = append(buf, ']')
	}
	buf = append(buf, "}}\n"...)
	_, err := bw.Write(buf)
	return err
}

// resultWriter takes the result's encoding (json.Encoder writes it once,
// with a newline) and writes the response around it.
type resultWriter struct {
	bw   *bufio.Writer
	head []byte // {"jsonrpc":…,"id":…
	err  error
}

func (w *resultWriter) Write(p []byte) (int, error) {
	w.bw.Write(w.head)
	w.bw.WriteString(`,"result":`)
	w.bw.Write(bytes.TrimSuffix(p, []byte("\n")))
	_, w.err = w.bw.WriteString("}\n")
	return len(p), w.err
}

var errTooLong = errors.New("request line too long")

// lineReader reads request lines. Unlike bufio.Scanner, which re-scans the
// whole buffered line for a newline after every read (17-21 ms for a 12.5
// MB line here), ReadSlice looks only at the bytes it just read.
//
// A small line lives in one buffer kept across requests. A big one is read
// into a region outside Go's heap (Linux), whose pages are given back as
// the line is decoded (release) and once it is answered (done); elsewhere
// it is gathered in 1 MiB chunks and joined once into a buffer of its
// exact size: growing one buffer by doubling leaves copies behind and, for
// a 12 MB line, a 16 MB buffer, which would set the adapter's peak memory.
type lineReader struct {
	br     *bufio.Reader
	chunks [][]byte // chunks[0] is the kept small-line buffer
	max    int
	region *region // made for the first big line; nil where there is none
	tried  bool    // a region was asked for
	inReg  bool    // the current line is in the region,
	n      int     // its first n bytes
}

const lineChunk = 1 << 20

// next returns the next line without its newline, valid until the next
// call. A line over max is read to its end and dropped: errTooLong, with its
// size.
func (l *lineReader) next() (line []byte, size int, err error) {
	if len(l.chunks) == 0 {
		l.chunks = [][]byte{make([]byte, 0, 64<<10)}
	}
	l.done()
	l.drop()
	l.chunks[0] = l.chunks[0][:0]
	for {
		frag, err := l.br.ReadSlice('\n')
		size += len(frag)
		if size <= l.max {
			l.add(frag)
		}
		switch {
		case err == nil, errors.Is(err, io.EOF) && size > 0:
			if size > l.max {
				return nil, size, errTooLong
			}
			return bytes.TrimRight(l.join(size), "\r\n"), size, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return nil, size, err
		}
	}
}

// add appends frag to the line: the kept buffer, then the region or
// chunks.
func (l *lineReader) add(frag []byte) {
	if l.inReg {
		l.n += copy(l.region.mem[l.n:], frag)
		return
	}
	for len(frag) > 0 {
		last := &l.chunks[len(l.chunks)-1]
		room := cap(*last) - len(*last)
		if room == 0 {
			if len(l.chunks) == 1 && cap(*last) < lineChunk {
				// The kept buffer grows up to one chunk.
				*last = append(*last, frag...)
				return
			}
			if len(l.chunks) == 1 && l.toRegion() {
				l.inReg = true
				l.n = copy(l.region.mem, *last)
				l.n += copy(l.region.mem[l.n:], frag)
				return
			}
			l.chunks = append(l.chunks, make([]byte, 0, lineChunk))
			continue
		}
		n := min(room, len(frag))
		*last = append(*last, frag[:n]...)
		frag = frag[n:]
	}
}

// toRegion says whether the rest of a big line goes to the region.
func (l *lineReader) toRegion() bool {
	if !l.tried {
		l.tried = true
		l.region = newRegion(l.max + lineChunk)
	}
	return l.region != nil
}

// release says the current line's first n bytes are decoded and no longer
// needed (see jsonwire.DecodeRequestReleasing).
func (l *lineReader) release(n int) {
	if l.inReg {
		l.region.release(n, false)
	}
}

// done gives back the current line's pages in the region.
func (l *lineReader) done() {
	if l.inReg {
		l.region.release(l.n, true)
	}
	l.inReg = false
}

// drop lets go of every chunk but the kept one.
func (l *lineReader) drop() {
	clear(l.chunks[1:])
	l.chunks = l.chunks[:1]
}

// join returns the line in one buffer.
func (l *lineReader) join(size int) []byte {
	if l.inReg {
		return l.region.mem[:l.n]
	}
	if len(l.chunks) == 1 {
		return l.chunks[0]
	}
	line := make([]byte, 0, size)
	for _, c := range l.chunks {
		line = append(line, c...)
	}
	l.drop()
	// The chunks are garbage now; collect them and give their pages back
	// before the line is decoded: the decoded pack needs one span of its
	// size, which the chunks' pages cannot be, so kept they only raised
	// the peak (9 MB pack: adapter peak 4.3 → 3.x times the pack).
	debug.FreeOSMemory()
	return line
}

func errorResponse(id json.RawMessage, code int, msg string) *deploy.RPCResponse {
	if id == nil {
		id = json.RawMessage("null")
	}
	return &deploy.RPCResponse{JSONRPC: "2.0", ID: id, Error: &deploy.RPCError{Code: code, Message: msg}}
}

// handle answers one request line. release, when the line's decoder calls
// it, gives back line[:n] (see jsonwire.DecodeRequestReleasing).
// The answer is resp, with the result to encode into it when there is one
// (see writeResponse).
func handle(ctx context.Context, p deploy.Provider, line []byte, release func(int)) (resp *deploy.RPCResponse, result any) {
	method, ok := peekMethod(line)
	if !ok {
		// The method could not be read ahead (params first, or not JSON):
		// decode the envelope in full to find out.
		var req deploy.RPCRequest
		if err := json.Unmarshal(line, &req); err != nil {
			return errorResponse(nil, deploy.CodeParseError, "parse error: "+err.Error()), nil
		}
		method = req.Method
	}
	if method == "" {
		// PromptKit's SDK routes a request without a method like an
		// unknown one: -32601, "method not found: ".
		return errorResponse(envelopeID(line), deploy.CodeMethodNotFound, "method not found: "), nil
	}
	h, known := handlers[method]
	if !known {
		return errorResponse(envelopeID(line), deploy.CodeMethodNotFound, "method not found: "+method), nil
	}
	id, result, err := h(ctx, p, line, release)
	if err != nil {
		var rpcErr *deploy.RPCError
		if errors.As(err, &rpcErr) {
			resp := errorResponse(id, rpcErr.Code, rpcErr.Message)
			resp.Error.Data = rpcErr.Data
			return resp, nil
		}
		return errorResponse(id, deploy.CodeInternalError, err.Error()), nil
	}
	return &deploy.RPCResponse{JSONRPC: "2.0", ID: id}, result
}

// peekMethod reads the method without decoding the rest of the line; it
// gives up (false) if params come first. A 10 MB plan request is then
// decoded once, straight into its typed params, instead of twice.
func peekMethod(line []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(line))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", false
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return "", false
		}
		switch k {
		case "method":
			var m string
			return m, dec.Decode(&m) == nil
		case "params":
			return "", false
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return "", false
		}
	}
	return "", true
}

// envelopeID is the request's id, for error answers.
func envelopeID(line []byte) json.RawMessage {
	var env struct {
		ID json.RawMessage `json:"id"`
	}
	_ = json.Unmarshal(line, &env)
	return env.ID
}

// handler decodes one request line and calls the provider. release is
// for decoders that give the line back as they go (planHandler).
type handler func(ctx context.Context, p deploy.Provider, line []byte, release func(int)) (json.RawMessage, any, error)

var handlers = map[string]handler{
	deploy.MethodGetProviderInfo: func(ctx context.Context, p deploy.Provider, line []byte, _ func(int)) (json.RawMessage, any, error) {
		res, err := p.GetProviderInfo(ctx)
		if err == nil && res != nil {
			res = declareLimit(res)
		}
		return envelopeID(line), res, err
	},
	deploy.MethodValidateConfig: typed(func(p deploy.Provider) func(context.Context, *deploy.ValidateRequest) (*deploy.ValidateResponse, error) {
		return p.ValidateConfig
	}),
	deploy.MethodPlan: planHandler(func(p deploy.Provider) func(context.Context, *deploy.PlanRequest) (any, error) {
		return func(ctx context.Context, r *deploy.PlanRequest) (any, error) { return p.Plan(ctx, r) }
	}),
	deploy.MethodStatus: typed(func(p deploy.Provider) func(context.Context, *deploy.StatusRequest) (*deploy.StatusResponse, error) {
		return p.Status
	}),
	deploy.MethodImport: typed(func(p deploy.Provider) func(context.Context, *deploy.ImportRequest) (*deploy.ImportResponse, error) {
		return p.Import
	}),
	deploy.MethodApply: planHandler(func(p deploy.Provider) func(context.Context, *deploy.PlanRequest) (any, error) {
		return func(ctx context.Context, r *deploy.PlanRequest) (any, error) { return applyFunc(p)(ctx, r) }
	}),
	deploy.MethodDestroy: typed(func(p deploy.Provider) func(context.Context, *deploy.DestroyRequest) (*deploy.DestroyResponse, error) {
		return destroyFunc(p)
	}),
}

// declareLimit tells clients this adapter reads lines longer than
// PromptKit's SDK does, unless the provider declared a limit itself.
func declareLimit(info *deploy.ProviderInfo) *deploy.ProviderInfo {
	for _, c := range info.Capabilities {
		if strings.HasPrefix(c, deploy.CapabilityMaxRequestPrefix) {
			return info
		}
	}
	out := *info
	out.Capabilities = append(append([]string(nil), info.Capabilities...), deploy.CapabilityMaxRequestPrefix+strconv.Itoa(MaxRequestBytes))
	return &out
}

// stdlibOnly sends every request to encoding/json: benchmarks set it to
// measure the one-pass decoder against it in the same run.
var stdlibOnly bool

// planFields are the PlanRequest's JSON fields, for the one-pass decoder.
func planFields(r *deploy.PlanRequest) map[string]*string {
	return map[string]*string{"pack_json": &r.PackJSON, "deploy_config": &r.DeployConfig,
		"arena_config": &r.ArenaConfig, "environment": &r.Environment, "prior_state": &r.PriorState}
}

// planHandler decodes plan and apply requests, the ones that carry the pack,
// in one pass with jsonwire; any other shape goes to encoding/json.
func planHandler(method func(deploy.Provider) func(context.Context, *deploy.PlanRequest) (any, error)) handler {
	slow := typed(method)
	return func(ctx context.Context, p deploy.Provider, line []byte, release func(int)) (json.RawMessage, any, error) {
		if stdlibOnly {
			return slow(ctx, p, line, release)
		}
		req := new(deploy.PlanRequest)
		// The line is given back as the pack is decoded, and the id is a
		// copy: nothing holds the line (a 10 MB pack, escaped) while the
		// provider plans.
		env, ok := jsonwire.DecodeRequestReleasing(line, func(string) map[string]*string { return planFields(req) }, release)
		if !ok {
			return slow(ctx, p, line, release)
		}
		res, err := method(p)(ctx, req)
		return env.ID, res, err
	}
}

// typed decodes the whole line once into an envelope with typed params.
func typed[Req, Resp any](method func(deploy.Provider) func(context.Context, *Req) (Resp, error)) handler {
	return func(ctx context.Context, p deploy.Provider, line []byte, _ func(int)) (json.RawMessage, any, error) {
		var env struct {
			ID     json.RawMessage `json:"id"`
			Params *Req            `json:"params"`
		}
		if err := json.Unmarshal(line, &env); err != nil {
			// -32700, not JSON-RPC's -32602: PromptKit's SDK answers params
			// it cannot decode this way, and adapters must look alike.
			return envelopeID(line), nil, &deploy.RPCError{Code: deploy.CodeParseError, Message: "invalid params: " + err.Error()}
		}
		if env.Params == nil {
			env.Params = new(Req)
		}
		res, err := method(p)(ctx, env.Params)
		return env.ID, res, err
	}
}

// applyFunc collects the provider's events and returns them with the state
// in one response, as PromptKit's SDK does. A partial deploy must not be
// forgotten: on failure the state travels in the error's data.
func applyFunc(p deploy.Provider) func(context.Context, *deploy.PlanRequest) (*deploy.ApplyResponse, error) {
	return func(ctx context.Context, req *deploy.PlanRequest) (*deploy.ApplyResponse, error) {
		var events []deploy.ApplyEvent
		state, err := p.Apply(ctx, req, func(e *deploy.ApplyEvent) error {
			events = append(events, *e)
			return nil
		})
		if err != nil && state != "" {
			data, _ := json.Marshal(&deploy.ApplyResponse{AdapterState: state, Events: events})
			return nil, &deploy.RPCError{Code: deploy.CodeInternalError, Message: err.Error(), Data: data}
		}
		if err != nil {
			return nil, err
		}
		return &deploy.ApplyResponse{AdapterState: state, Events: events}, nil
	}
}

func destroyFunc(p deploy.Provider) func(context.Context, *deploy.DestroyRequest) (*deploy.DestroyResponse, error) {
	return func(ctx context.Context, req *deploy.DestroyRequest) (*deploy.DestroyResponse, error) {
		var events []deploy.DestroyEvent
		err := p.Destroy(ctx, req, func(e *deploy.DestroyEvent) error {
			events = append(events, *e)
			return nil
		})
		if err != nil {
			return nil, err
		}
		return &deploy.DestroyResponse{Status: "destroyed", Events: events}, nil
	}
}
