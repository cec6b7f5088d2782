package deploy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/arena-deploy/arena-deploy-action/internal/deploy/jsonwire"
)

// MaxResponseBytes bounds one response line. PromptKit's SDK accepts 10 MB
// requests; we read responses of up to 256 MiB so no real adapter's answer is
// ever cut, while a runaway adapter cannot exhaust memory.
const MaxResponseBytes = 256 << 20

// stderrTailBytes is how much of the adapter's stderr is kept for errors.
const stderrTailBytes = 64 << 10

// ErrAdapterExited is matched when the adapter process ends or closes its
// stdout before answering.
var ErrAdapterExited = errors.New("adapter exited before answering")

// ErrMalformedResponse is matched when the adapter writes something that is
// not a JSON-RPC response to the request in flight.
var ErrMalformedResponse = errors.New("malformed adapter response")

// ErrNotAdapter is matched when the program did not answer the handshake
// (get_provider_info, the first call) in time or answered something that is
// not JSON-RPC: it does not speak the adapter protocol (a shell, a script
// that waits for input, the wrong binary).
var ErrNotAdapter = errors.New("it does not speak the adapter protocol")

// CallError is a failed call: which adapter, which method, why, and the tail
// of what the adapter wrote to stderr.
type CallError struct {
	Adapter string
	Method  string
	Err     error
	Stderr  string
}

// Error implements error.
func (e *CallError) Error() string {
	msg := fmt.Sprintf("adapter %s: %s: %v", e.Adapter, e.Method, e.Err)
	if e.Stderr != "" {
		msg += "\nadapter stderr (last lines):\n" + lastLines(e.Stderr, 20)
	}
	return msg
}

// Unwrap returns the cause.
func (e *CallError) Unwrap() error { return e.Err }

// ClientOption configures NewAdapterClient.
type ClientOption func(*clientConfig)

type clientConfig struct {
	dir       string
	env       []string
	stderr    io.Writer
	redact    func(string) string
	waitDelay time.Duration
	timeouts  Timeouts
}

// WithDir sets the adapter's working directory.
func WithDir(dir string) ClientOption { return func(c *clientConfig) { c.dir = dir } }

// WithEnv sets the adapter's environment (default: the caller's).
func WithEnv(env []string) ClientOption { return func(c *clientConfig) { c.env = env } }

// WithStderr mirrors the adapter's stderr to w (e.g. a masked log).
func WithStderr(w io.Writer) ClientOption { return func(c *clientConfig) { c.stderr = w } }

// WithRedactor filters the stderr tail before it is put into an error, so
// secrets an adapter logs never reach a message.
func WithRedactor(f func(string) string) ClientOption {
	return func(c *clientConfig) { c.redact = f }
}

// AdapterClient drives one adapter over JSON-RPC 2.0 on stdio. Calls are
// sequential; a call whose context ends kills the adapter, because the stream
// can no longer be trusted, and later calls fail fast.
type AdapterClient struct {
	name   string
	w      io.WriteCloser
	lines  <-chan lineResult
	quit   chan struct{} // closed when the client stops reading
	redact func(string) string
	limits Timeouts

	// maxRequest is the longest request line the adapter reads, newline
	// included: PromptKit's SDK stops at 10 MiB unless the adapter declares
	// more in its capabilities. 0 until get_provider_info has answered.
	maxRequest int

	mu     sync.Mutex
	nextID int64
	broken error

	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has been waited for
	waitErr error
	stderr  *tailBuffer
}

type lineResult struct {
	line []byte
	err  error
}

// NewAdapterClient starts the adapter at binaryPath in a process group of
// its own. When ctx ends, a call times out or the action dies, the adapter
// and its process group are killed.
func NewAdapterClient(ctx context.Context, binaryPath string, opts ...ClientOption) (*AdapterClient, error) {
	cfg := clientConfig{waitDelay: 2 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	name := filepath.Base(binaryPath)
	cmd := exec.CommandContext(ctx, binaryPath)
	cmd.Dir = cfg.dir
	cmd.Env = cfg.env
	cmd.SysProcAttr = sysProcAttr()
	cmd.Cancel = func() error { return killGroup(cmd.Process) }
	cmd.WaitDelay = cfg.waitDelay
	tail := &tailBuffer{max: stderrTailBytes}
	cmd.Stderr = tail
	if cfg.stderr != nil {
		cmd.Stderr = io.MultiWriter(tail, cfg.stderr)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start adapter %s: %w", name, err)
	}
	// Our own pipe, not StdoutPipe: Wait must never close the read end while
	// the reader goroutine still drains the last response.
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start adapter %s: %w", name, err)
	}
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("start adapter %s: %w (check the path is an executable built for this machine)", name, err)
	}
	pw.Close()
	quit := make(chan struct{})
	c := &AdapterClient{
		name: name, w: stdin, lines: readLines(pr, quit), quit: quit, redact: cfg.redact, limits: cfg.timeouts,
		cmd: cmd, done: make(chan struct{}), stderr: tail,
	}
	go func() {
		c.waitErr = cmd.Wait()
		pr.Close()
		close(c.done)
	}()
	return c, nil
}

// NewAdapterClientIO returns a client over r and w instead of a process.
func NewAdapterClientIO(r io.Reader, w io.WriteCloser) *AdapterClient {
	quit := make(chan struct{})
	return &AdapterClient{name: "adapter", w: w, lines: readLines(r, quit), quit: quit, stderr: &tailBuffer{max: stderrTailBytes}}
}

// Name is the adapter's binary name, used in messages.
func (c *AdapterClient) Name() string { return c.name }

// readLines reads newline-terminated lines until EOF or an error, each of at
// most MaxResponseBytes, and sends them on the returned channel.
func readLines(r io.Reader, quit <-chan struct{}) <-chan lineResult {
	ch := make(chan lineResult)
	send := func(lr lineResult) bool {
		select {
		case ch <- lr:
			return true
		case <-quit:
			return false
		}
	}
	go func() {
		defer close(ch)
		br := bufio.NewReaderSize(r, 64<<10)
		for {
			line, err := readLine(br)
			if err == nil {
				if !send(lineResult{line: line}) {
					return
				}
				continue
			}
			if errors.Is(err, io.EOF) && len(line) > 0 {
				// The process died halfway through writing a response.
				err = fmt.Errorf("%w after an incomplete response of %d bytes", io.EOF, len(line))
			}
			send(lineResult{err: err})
			return
		}
	}()
	return ch
}

// readLine reads one response line, without its line ending. A long line
// (a plan of 50,000 changes is about 5 MB) is gathered in chunks and joined
// once into a buffer of its size: appended to one buffer, it was copied at
// every doubling and ended up to twice its size.
func readLine(br *bufio.Reader) ([]byte, error) {
	var chunks [][]byte
	var cur []byte
	size := 0
	for {
		frag, err := br.ReadSlice('\n')
		size += len(frag)
		if size > MaxResponseBytes {
			return nil, fmt.Errorf("%w: a response line is larger than %d bytes", ErrMalformedResponse, MaxResponseBytes)
		}
		if cur == nil && err == nil {
			return bytes.TrimRight(append(make([]byte, 0, len(frag)), frag...), "\r\n"), nil
		}
		for len(frag) > 0 {
			if len(cur) == cap(cur) {
				if cur != nil {
					chunks = append(chunks, cur)
				}
				cur = make([]byte, 0, min(max(size, 64<<10), 1<<20))
			}
			n := copy(cur[len(cur):cap(cur)], frag)
			cur, frag = cur[:len(cur)+n], frag[n:]
		}
		switch {
		case err == nil:
			return bytes.TrimRight(join(append(chunks, cur), size), "\r\n"), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return join(append(chunks, cur), size), err
		}
	}
}

// join is the chunks in one buffer of size bytes.
func join(chunks [][]byte, size int) []byte {
	if len(chunks) == 1 {
		return chunks[0]
	}
	b := make([]byte, 0, size)
	for _, c := range chunks {
		b = append(b, c...)
	}
	return b
}

// call sends one request and decodes the matching response into result.
func (c *AdapterClient) call(ctx context.Context, method string, params, result any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return c.fail(method, fmt.Errorf("adapter unusable after an earlier failure: %w", c.broken))
	}
	c.nextID++
	id := c.nextID
	req, err := encodeRequest(id, method, params)
	if err != nil {
		return c.fail(method, err)
	}
	if c.maxRequest > 0 && req.upper > c.maxRequest && req.exactSize() > c.maxRequest {
		// Sending it would only kill the adapter (PromptKit's SDK exits on a
		// line over its limit) and show a broken pipe: say what happened.
		return c.fail(method, &RequestTooLargeError{Method: method, Size: req.size, Limit: c.maxRequest})
	}
	limit := c.limits.For(method)
	ctx, cancel := context.WithTimeoutCause(ctx, limit, fmt.Errorf("%w after %s (the adapter-timeout of %s); the adapter and its processes were killed", ErrTimedOut, limit, method))
	defer cancel()
	if err := c.send(ctx, func() error { return req.writeTo(c.w) }); err != nil {
		return c.breakWith(method, err)
	}
	resp, err := c.receive(ctx)
	if err != nil {
		return c.breakWith(method, err)
	}
	if !bytes.Equal(bytes.TrimSpace(resp.ID), []byte(strconv.FormatInt(id, 10))) {
		return c.breakWith(method, fmt.Errorf("%w: answered id %s, expected %d", ErrMalformedResponse, string(resp.ID), id))
	}
	if resp.Error != nil {
		return c.fail(method, resp.Error)
	}
	if result == nil {
		return nil
	}
	if len(resp.Result) == 0 {
		return c.breakWith(method, fmt.Errorf("%w: response has neither result nor error", ErrMalformedResponse))
	}
	if string(bytes.TrimSpace(resp.Result)) == "null" {
		// PromptKit's SDK sends a provider's nil result as null, and its
		// client reads that as the empty result: so do we.
		return nil
	}
	if pr, ok := result.(*PlanResponse); ok && decodePlanResult(resp.Result, pr) {
		return nil
	}
	if err := json.Unmarshal(resp.Result, result); err != nil {
		return c.breakWith(method, fmt.Errorf("%w: decode result: %v", ErrMalformedResponse, err))
	}
	return nil
}

// request is one encoded request line, ready to send.
type request struct {
	small []byte       // the whole line, for every request but the big one
	head  string       // the envelope up to "params":
	plan  *PlanRequest // the big one: its strings are escaped while sent
	size  int          // bytes on the wire, newline included (0: not counted yet)
	// upper bounds size: no byte is escaped to more than six, so a line
	// under the adapter's limit at that is not counted (a pass over the
	// pack).
	upper int
}

// exactSize is the line's size, counted once.
func (r *request) exactSize() int {
	if r.size == 0 && r.plan != nil {
		r.size = len(r.head) + len("{}}\n")
		r.plan.fields(func(key, val string, first bool) {
			if !first {
				r.size++ // the comma
			}
			r.size += len(`"":`) + len(key) + jsonwire.QuotedLen(val)
		})
	}
	return r.size
}

// encodeRequest prepares one request line. A PlanRequest (plan, apply) is
// not encoded here: its size is computed, and its strings are escaped while
// they are written (jsonwire), byte for byte as encoding/json would, so a
// 10 MB pack is never copied into a second 12 MB line.
func encodeRequest(id int64, method string, params any) (*request, error) {
	m, _ := json.Marshal(method)
	head := `{"jsonrpc":"2.0","id":` + strconv.FormatInt(id, 10) + `,"method":` + string(m)
	if params == nil {
		line := head + "}\n"
		return &request{small: []byte(line), size: len(line), upper: len(line)}, nil
	}
	head += `,"params":`
	if r, ok := params.(*PlanRequest); ok {
		upper := len(head) + len("{}}\n")
		r.fields(func(key, val string, first bool) {
			upper += len(`,"":`) + len(key) + 2 + 6*len(val)
		})
		return &request{head: head, plan: r, upper: upper}, nil
	}
	var buf bytes.Buffer
	buf.WriteString(head)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(params); err != nil { // Encode adds the newline
		return nil, fmt.Errorf("encode params: %w", err)
	}
	b := buf.Bytes()
	b[len(b)-1] = '}'
	b = append(b, '\n')
	return &request{small: b, size: len(b), upper: len(b)}, nil
}

// fields calls f for each field encoding/json would write, in its order.
func (r *PlanRequest) fields(f func(key, val string, first bool)) {
	f("pack_json", r.PackJSON, true)
	f("deploy_config", r.DeployConfig, false)
	for _, kv := range [...][2]string{{"arena_config", r.ArenaConfig}, {"environment", r.Environment}, {"prior_state", r.PriorState}} {
		if kv[1] != "" { // omitempty
			f(kv[0], kv[1], false)
		}
	}
}

// writeTo sends the line through a buffer of its own.
func (r *request) writeTo(w io.Writer) error {
	if r.plan == nil {
		_, err := w.Write(r.small)
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(r.head)
	bw.WriteByte('{')
	var err error
	r.plan.fields(func(key, val string, first bool) {
		if err != nil {
			return
		}
		if !first {
			bw.WriteByte(',')
		}
		bw.WriteString(`"` + key + `":`)
		err = jsonwire.WriteQuoted(bw, val)
	})
	if err != nil {
		return err
	}
	bw.WriteString("}}\n")
	return bw.Flush()
}

// receive waits for the next non-empty line and parses it.
func (c *AdapterClient) receive(ctx context.Context) (*RPCResponse, error) {
	for {
		select {
		case <-ctx.Done():
			c.kill()
			return nil, ctxError(ctx)
		case lr, ok := <-c.lines:
			if !ok || lr.err != nil {
				if lr.err != nil && !errors.Is(lr.err, io.EOF) && !errors.Is(lr.err, os.ErrClosed) {
					return nil, lr.err
				}
				if lr.err != nil && lr.err != io.EOF && errors.Is(lr.err, io.EOF) {
					return nil, c.exitCause(fmt.Errorf("%w (%s)", ErrAdapterExited, strings.TrimPrefix(lr.err.Error(), "EOF ")))
				}
				return nil, c.exitCause(ErrAdapterExited)
			}
			if len(bytes.TrimSpace(lr.line)) == 0 {
				continue
			}
			resp, ok := decodeResponse(lr.line)
			if !ok {
				if err := json.Unmarshal(lr.line, &resp); err != nil {
					return nil, fmt.Errorf("%w: not JSON-RPC (%v): %q", ErrMalformedResponse, err, preview(lr.line))
				}
			}
			if resp.JSONRPC != "2.0" && resp.ID == nil {
				return nil, fmt.Errorf("%w: not JSON-RPC 2.0: %q", ErrMalformedResponse, preview(lr.line))
			}
			return &resp, nil
		}
	}
}

// exitCause adds the process's exit status, once it is known, to err.
func (c *AdapterClient) exitCause(err error) error {
	if c.cmd == nil {
		return err
	}
	// A crashed adapter's exit status arrives within milliseconds; one that
	// closed stdout but lives on is not waited for long (it is killed next).
	select {
	case <-c.done:
	case <-time.After(time.Second):
		return err
	}
	if c.waitErr != nil {
		return fmt.Errorf("%w (%v)", err, c.waitErr)
	}
	return fmt.Errorf("%w (exit status 0)", err)
}

func (c *AdapterClient) stopReading() {
	select {
	case <-c.quit:
	default:
		close(c.quit)
	}
}

func (c *AdapterClient) kill() {
	c.stopReading()
	if c.cmd != nil && c.cmd.Process != nil {
		_ = killGroup(c.cmd.Process)
		<-c.done
		return
	}
	_ = c.w.Close()
}

func (c *AdapterClient) breakWith(method string, err error) error {
	c.broken = err
	c.kill()
	return c.fail(method, err)
}

func (c *AdapterClient) fail(method string, err error) error {
	tail := c.stderr.String()
	if c.redact != nil {
		tail = c.redact(tail)
	}
	return &CallError{Adapter: c.name, Method: method, Err: err, Stderr: tail}
}

// Close closes the adapter's stdin, asking it to exit, and waits for it; an
// adapter that does not exit within a few seconds is killed.
func (c *AdapterClient) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.w.Close()
	c.stopReading()
	if c.cmd == nil {
		return nil
	}
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		_ = killGroup(c.cmd.Process)
		<-c.done
	}
	// Whatever the adapter left running in its group goes with it.
	_ = killGroup(c.cmd.Process)
	if c.broken == nil && c.waitErr != nil {
		return fmt.Errorf("adapter %s exited with an error: %w", c.name, c.waitErr)
	}
	return nil
}

// GetProviderInfo implements Provider.
func (c *AdapterClient) GetProviderInfo(ctx context.Context) (*ProviderInfo, error) {
	var out ProviderInfo
	if err := c.call(ctx, MethodGetProviderInfo, nil, &out); err != nil {
		// Silence or text that is not JSON-RPC in answer to the first
		// request: what a program that is not an adapter does. (An
		// adapter that exits or answers a JSON-RPC error speaks the
		// protocol; its own message says what went wrong.)
		var ce *CallError
		const protocol = "(JSON-RPC 2.0, one message a line on stdin and stdout; an adapter answers " + MethodGetProviderInfo + " at once)"
		switch {
		case !errors.As(err, &ce):
		case errors.Is(err, ErrTimedOut):
			ce.Err = fmt.Errorf("no answer: %w %s, or it hung at start: %w", ErrNotAdapter, protocol, ce.Err)
		case errors.Is(err, ErrMalformedResponse):
			ce.Err = fmt.Errorf("%w %s: %w", ErrNotAdapter, protocol, ce.Err)
		}
		return nil, err
	}
	c.mu.Lock()
	c.maxRequest = out.MaxRequestBytes()
	c.mu.Unlock()
	return &out, nil
}

// ValidateConfig implements Provider.
func (c *AdapterClient) ValidateConfig(ctx context.Context, req *ValidateRequest) (*ValidateResponse, error) {
	var out ValidateResponse
	if err := c.call(ctx, MethodValidateConfig, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Plan implements Provider.
func (c *AdapterClient) Plan(ctx context.Context, req *PlanRequest) (*PlanResponse, error) {
	var out PlanResponse
	if err := c.call(ctx, MethodPlan, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Apply implements Provider: it replays the returned events to callback in
// order and returns the adapter state. If the callback fails, the state is
// still returned with the error, so a partial deploy is never forgotten.
func (c *AdapterClient) Apply(ctx context.Context, req *PlanRequest, callback ApplyCallback) (string, error) {
	var out ApplyResponse
	if err := c.call(ctx, MethodApply, req, &out); err != nil {
		return PartialState(err), err
	}
	state := out.AdapterState
	if state == "" {
		state = out.State
	}
	for i := range out.Events {
		if callback == nil {
			break
		}
		if err := callback(&out.Events[i]); err != nil {
			return state, err
		}
	}
	return state, nil
}

// Destroy implements Provider.
func (c *AdapterClient) Destroy(ctx context.Context, req *DestroyRequest, callback DestroyCallback) error {
	var out DestroyResponse
	if err := c.call(ctx, MethodDestroy, req, &out); err != nil {
		return err
	}
	for i := range out.Events {
		if callback == nil {
			break
		}
		if err := callback(&out.Events[i]); err != nil {
			return err
		}
	}
	return nil
}

// Status implements Provider.
func (c *AdapterClient) Status(ctx context.Context, req *StatusRequest) (*StatusResponse, error) {
	var out StatusResponse
	if err := c.call(ctx, MethodStatus, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Import implements Provider.
func (c *AdapterClient) Import(ctx context.Context, req *ImportRequest) (*ImportResponse, error) {
	var out ImportResponse
	if err := c.call(ctx, MethodImport, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

var _ Provider = (*AdapterClient)(nil)

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	if len(b) > t.max {
		b = b[len(b)-t.max:]
	}
	return string(b)
}

func preview(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

func lastLines(s string, n int) string {
	s = string(bytes.TrimRight([]byte(s), "\n"))
	lines := bytes.Split([]byte(s), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// PartialState returns the adapter state carried by a failed apply's error
// data (our SDK sends what was deployed before the failure), or "".
func PartialState(err error) string {
	var rpcErr *RPCError
	if !errors.As(err, &rpcErr) || len(rpcErr.Data) == 0 {
		return ""
	}
	var partial ApplyResponse
	if json.Unmarshal(rpcErr.Data, &partial) != nil {
		return ""
	}
	if partial.AdapterState != "" {
		return partial.AdapterState
	}
	return partial.State
}
